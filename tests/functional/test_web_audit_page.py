"""The privacy officer's audit log page (issue 18): newest first with page numbers, dropdowns
and Dutch errors on the form, no codes in the events, a child's trail and an exchange one
click away, the integrity banner's checkpoint and key, and an export Dutch Excel opens.

The story, written once below: the school sent 55 absence reports about one child to the
SWV (exchanges ``ex-0`` .. ``ex-54``, one a minute from 2 March 2026 09:00 Amsterdam time),
the first was delivered; the GGD's advice to WIJ about another child was refused; and a
login failed under a NameID that a spreadsheet would take for a formula. The expected
counts, times and names below are counted from that story by hand.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import select

from gateway.audit.log import AuditEvent, AuditLog
from gateway.audit.models import AuditEventRow
from gateway.web.auditdesk import forget_integrity
from pseudonymise import Bsn
from tests.saml_helpers import devidp_login, gateway_app

SCHOOL, SWV, GGD, WIJ, OPERATOR = (
    "00000001001234567000", "00000001002345678000", "00000001003456789000",
    "00000001004567890000", "00000001006789012000",
)
BSN = "111222333"
OTHER_BSN = "123456782"
SENDS = 55
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 09:00 in Amsterdam (CET)
FORMULA_USER = '=HYPERLINK("http://example.org","klik")'
CLIENT_ID = "regenboog.sis_koppeling"


@pytest.fixture(scope="module")
def app(keys_dir, tmp_path_factory):
    application = gateway_app(tmp_path_factory.mktemp("audit-page"), keys_dir)
    seed(application)
    forget_integrity()
    yield application
    forget_integrity()
    application.extensions["gateway"].db.dispose()


def seed(app) -> None:
    services = app.extensions["gateway"]
    child = services.audit.subject_ref(Bsn(BSN))
    other = services.audit.subject_ref(Bsn(OTHER_BSN))
    events = [
        (START + timedelta(minutes=i), AuditEvent(
            "exchange.send", "allowed", actor_org=SCHOOL, actor_client_id=CLIENT_ID,
            sender=SCHOOL, recipient=SWV, message_type="absence_report",
            purpose="passend_onderwijs", exchange_id=f"ex-{i}", subject_ref=child,
            legal_basis={"type": "legal_obligation", "citation": "Wet passend onderwijs"},
            fields_forwarded=["absence_type"], fields_dropped=["remarks"]))
        for i in range(SENDS)
    ]
    events.append((START + timedelta(hours=2), AuditEvent(
        "exchange.deliver", "allowed", actor_org=SWV, sender=SCHOOL, recipient=SWV,
        message_type="absence_report", exchange_id="ex-0", subject_ref=child)))
    events.append((datetime(2026, 4, 10, 12, 0, tzinfo=UTC), AuditEvent(
        "exchange.send", "denied", reason="route_not_allowed", actor_org=GGD, sender=GGD,
        recipient=WIJ, message_type="jgz_advice", exchange_id="ex-ggd", subject_ref=other)))
    events.append((datetime(2026, 4, 11, 7, 0, tzinfo=UTC), AuditEvent(
        "auth.failure", "denied", reason="saml_refused", actor_org=SCHOOL,
        actor_user=FORMULA_USER)))
    log = AuditLog()
    for at, event in events:
        with services.db.write_session() as session:
            log.append(session, event, at)


@pytest.fixture(scope="module")
def users(app):
    signed_in = {}
    for user in ("privacy-operator", "privacy-school"):
        client = app.test_client()
        assert devidp_login(client, user).status_code == 303
        signed_in[user] = client
    return signed_in


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def events_table(body: str) -> str:
    return re.search(r'<table class="events">.*?</table>', body, re.S).group(0)


def numbers(body: str) -> list[int]:
    """The Nr. column of the events table, top to bottom."""
    rows = re.findall(r"<tr>\s*<td>([0-9]+)</td>", events_table(body))
    return [int(row) for row in rows]


def href(body: str, rel: str) -> str:
    return re.search(rf'href="([^"]+)" rel="{rel}"', body).group(1).replace("&amp;", "&")


def seqs_of(app, action: str) -> list[int]:
    with app.extensions["gateway"].db.session() as session:
        return list(session.scalars(
            select(AuditEventRow.seq).where(AuditEventRow.action == action)
            .order_by(AuditEventRow.seq)))


def last_event(app, action: str) -> dict:
    with app.extensions["gateway"].db.session() as session:
        canonical = session.scalars(
            select(AuditEventRow.canonical).where(AuditEventRow.action == action)
            .order_by(AuditEventRow.seq.desc())).first()
    return json.loads(canonical)


# order, count, pages -------------------------------------------------------------------------
def test_newest_first_by_default_and_oldest_first_on_request(app, users):
    sends = seqs_of(app, "exchange.send")  # 55 of the school and the GGD's refusal: 56
    assert len(sends) == SENDS + 1
    body = page(users["privacy-operator"], "/ui/audit?action=exchange.send")
    assert numbers(body) == sorted(sends, reverse=True)[:50]
    assert "nieuwste eerst" in body
    oldest_url = re.search(r'href="([^"]+)">oudste eerst</a>', body).group(1)
    body = page(users["privacy-operator"], oldest_url.replace("&amp;", "&"))
    assert numbers(body) == sends[:50]
    assert re.search(r'href="[^"]+">nieuwste eerst</a>', body)


def test_the_total_and_the_page_numbers_with_previous_and_next(app, users):
    client = users["privacy-operator"]
    first = page(client, "/ui/audit?action=exchange.send")
    assert "<strong>56</strong> gebeurtenissen" in first
    assert "Pagina 1 van 2" in first
    assert 'rel="prev"' not in first
    second_url = href(first, "next")
    assert "page=2" in second_url and "action=exchange.send" in second_url
    second = page(client, second_url)
    assert "Pagina 2 van 2" in second
    assert numbers(second) == sorted(seqs_of(app, "exchange.send"), reverse=True)[50:]
    assert 'rel="next"' not in second
    back = page(client, href(second, "prev"))
    assert "Pagina 1 van 2" in back


def test_one_event_is_one_gebeurtenis(app, users):
    body = page(users["privacy-operator"], "/ui/audit?action=exchange.deliver")
    assert "<strong>1</strong> gebeurtenis</p>" in body or re.search(
        r"<strong>1</strong> gebeurtenis(?!sen)", body)
    assert "1 gebeurtenissen" not in body


# filters -------------------------------------------------------------------------------------
def test_coded_filters_are_dropdowns_with_dutch_names(app, users):
    body = page(users["privacy-operator"], "/ui/audit")
    assert not re.search(r'<input[^>]+name="(action|message_type|decision|org)"', body)
    assert re.search(r'<select id="f-action" name="action"', body)
    assert '<option value="exchange.send">bericht verstuurd</option>' in body
    assert '<option value="absence_report">Verzuimmelding</option>' in body
    assert '<option value="denied">geweigerd</option>' in body
    assert f'<option value="{GGD}">' in body
    assert 'type="date" id="f-from"' in body and 'type="date" id="f-to"' in body


def test_a_dropdown_filter_selects(app, users):
    body = page(users["privacy-operator"], "/ui/audit?message_type=jgz_advice")
    assert '<option value="jgz_advice" selected>' in body
    assert "<strong>1</strong> gebeurtenis" in body
    assert "Route niet toegestaan" in events_table(body)
    body = page(users["privacy-operator"], "/ui/audit?from=2026-04-10&to=2026-04-10")
    table = events_table(body)  # 10 April in Amsterdam: the GGD's refusal only
    assert "Route niet toegestaan" in table and "Verzuimmelding" not in table


ENGLISH = ("Must be", "must be", "RFC 3339", "not valid", "invalid", "Invalid", "parameter")


def visible(body: str) -> str:
    """The page's text without its markup (attribute names are no words for a person)."""
    return re.sub(r"<[^>]+>", " ", body)


def test_a_bad_filter_is_shown_on_the_form_keeping_what_was_typed(app, users):
    response = users["privacy-operator"].get(
        "/ui/audit?from=2026-04-10&to=2026-04-01&action=exchange.send&decision=denied")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "<h1>Auditlog</h1>" in body and 'class="filters"' in body  # the same page
    error = re.search(r'<p class="field-error" id="e-to">([^<]+)</p>', body).group(1)
    assert error == "„Tot en met” ligt vóór „Van”. Kies een latere einddatum."
    assert 'id="f-to" name="to" value="2026-04-01" aria-invalid="true"' in body
    assert 'value="2026-04-10"' in body
    assert '<option value="exchange.send" selected>' in body
    assert '<option value="denied" selected>' in body
    assert not any(word in visible(body) for word in ENGLISH)


def test_an_unknown_action_and_a_typed_date_are_named_beside_their_fields(app, users):
    response = users["privacy-operator"].get("/ui/audit?action=exchange.sent&from=gisteren")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert re.search(r'id="e-action">Kies een handeling uit de lijst.</p>', body)
    assert "„gisteren” is geen geldige datum" in body
    assert 'name="from" value="gisteren"' in body
    assert not any(word in visible(body) for word in ENGLISH)


# what a person sees of an event --------------------------------------------------------------
def test_the_events_show_names_not_codes(app, users):
    table = events_table(page(users["privacy-operator"], "/ui/audit?action=exchange.send"))
    for code in ("exchange.send", "absence_report", "jgz_advice", "route_not_allowed",
                 CLIENT_ID, "denied", "allowed"):
        assert code not in table.replace('class="status status-denied"', "").replace(
            'class="status status-allowed"', ""), code
    assert "bericht verstuurd" in table and "Verzuimmelding" in table
    assert "Route niet toegestaan" in table and "via een gekoppeld systeem" in table


def test_a_partner_officer_sees_only_its_own_events_and_no_child_links(app, users):
    body = page(users["privacy-school"], "/ui/audit?action=exchange.send")
    assert f"<strong>{SENDS}</strong> gebeurtenissen" in body
    assert "Advies van de jeugdgezondheidszorg" not in events_table(body)
    assert "Spoor van dit kind" not in body and "kind=" not in body
    assert "Hele uitwisseling" in body
    body = page(users["privacy-school"], f"/ui/audit?org={GGD}&message_type=jgz_advice")
    assert "<strong>0</strong> gebeurtenissen" in body


# the child's trail and the exchange ----------------------------------------------------------
def trail_link(body: str) -> str:
    return re.search(r'<a href="([^"]+)">Spoor van dit kind</a>', body).group(1)


def test_the_childs_trail_for_the_operators_officer_without_a_bsn(app, users):
    client = users["privacy-operator"]
    body = page(client, "/ui/audit?message_type=absence_report")
    link = trail_link(body)
    child = app.extensions["gateway"].audit.subject_ref(Bsn(BSN))
    assert link.startswith("/ui/audit?kind=")
    assert BSN not in link and child not in link and child not in body
    trail = page(client, link.replace("&amp;", "&"))
    assert "<h1>Spoor van één kind</h1>" in trail
    assert "Terug naar de hele auditlog" in trail
    table = events_table(trail)
    assert "Verzuimmelding" in table and "bericht afgeleverd" in table
    assert "Advies van de jeugdgezondheidszorg" not in table, "another child's event"
    # 55 sends and a delivery about this child, and this read itself (it is on the record)
    assert f"<strong>{SENDS + 2}</strong> gebeurtenissen" in trail
    read = last_event(app, "audit.search")
    assert read["subject_commitment"] and BSN not in json.dumps(read)
    # the trail keeps itself while paging, with a fresh reference
    assert "kind=" in href(trail, "next")


def test_a_trail_link_works_for_no_one_else(app, users):
    link = trail_link(page(users["privacy-operator"], "/ui/audit")).replace("&amp;", "&")
    response = users["privacy-school"].get(link)
    assert response.status_code == 400
    assert "Alleen de beheerorganisatie" in response.get_data(as_text=True)
    forged = users["privacy-operator"].get("/ui/audit?kind=AAAAAQ" + "A" * 40)
    assert forged.status_code == 400
    assert "verlopen" in forged.get_data(as_text=True)


def test_the_exchange_link_shows_that_exchanges_events(app, users):
    body = page(users["privacy-school"], "/ui/audit?action=exchange.send&order=oldest")
    assert 'href="/ui/audit?exchange=ex-0">Hele uitwisseling</a>' in body
    exchange = page(users["privacy-school"], "/ui/audit?exchange=ex-0")
    assert "<h1>Eén uitwisseling</h1>" in exchange
    assert "<strong>2</strong> gebeurtenissen" in exchange  # the send and its delivery
    table = events_table(exchange)
    assert "bericht verstuurd" in table and "bericht afgeleverd" in table


# integrity banner ----------------------------------------------------------------------------
def test_the_banner_has_date_and_links_to_checkpoint_and_key(app, users):
    forget_integrity()
    body = page(users["privacy-operator"], "/ui/audit")
    assert re.search(r"Integriteit gecontroleerd op [0-9]{2}-[0-9]{2}-20[0-9]{2} om "
                     r"[0-9]{2}:[0-9]{2}", body)
    assert 'href="/ui/audit/checkpoint"' in body and 'href="/api/v1/audit/key"' in body
    response = users["privacy-school"].get("/ui/audit/checkpoint")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    checkpoint = response.get_json()
    key = app.test_client().get("/api/v1/audit/key").get_json()
    # the signed note verifies with the public key (C2SP signed note, Ed25519)
    text, _, signature_line = checkpoint["note"].partition("\n\n")
    name, signature = signature_line.strip().removeprefix("\u2014 ").rsplit(" ", 1)
    raw = base64.b64decode(signature)
    assert name == key["name"] and raw[:4].hex() == key["key_id"]
    public = ed25519.Ed25519PublicKey.from_public_bytes(base64.b64decode(key["public_key"]))
    public.verify(raw[4:], (text + "\n").encode())
    assert text.splitlines()[1] == str(checkpoint["tree_size"])


# exports -------------------------------------------------------------------------------------
HEADERS = [
    "Nr.", "Tijdstip (Nederlandse tijd)", "Tijdstip (UTC)", "Handeling", "Handeling (code)",
    "Organisatie", "Organisatie (OIN)", "Gebruiker", "Koppeling", "Uitwisseling",
    "Berichttype", "Berichttype (code)", "Van", "Van (OIN)", "Naar", "Naar (OIN)", "Doel",
    "Doel (code)", "Grondslag", "Wetsartikel", "Toestemming", "Besluit", "Besluit (code)",
    "Reden", "Reden (code)", "Doorgegeven gegevens", "Weggelaten gegevens",
    "Gegeneraliseerde gegevens", "Kind (auditpseudoniem)", "Hash", "Vorige hash",
]


def excel(client, query: str) -> tuple[bytes, list[list[str]]]:
    response = client.get(f"/ui/audit/export?format=excel&{query}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw[3:].decode("utf-8")
    return raw, list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def test_the_excel_export_parses_with_semicolons_and_round_trips(app, users):
    raw, rows = excel(users["privacy-operator"], "action=exchange.send")
    assert rows[0] == HEADERS
    assert len(rows) == 1 + SENDS + 1
    assert raw.count(b"\r\n") == len(rows) and b"\n" not in raw.replace(b"\r\n", b"")
    first = dict(zip(HEADERS, rows[1]))  # oldest first, like the API's export
    assert first["Tijdstip (Nederlandse tijd)"] == "02-03-2026 09:00:00"
    assert first["Tijdstip (UTC)"] == "2026-03-02 08:00:00"
    assert (first["Handeling"], first["Handeling (code)"]) == ("bericht verstuurd",
                                                               "exchange.send")
    assert (first["Berichttype"], first["Berichttype (code)"]) == ("Verzuimmelding",
                                                                   "absence_report")
    assert first["Van"] == "OBS De Regenboog" and first["Van (OIN)"] == SCHOOL
    assert first["Uitwisseling"] == "ex-0" and first["Koppeling"] == CLIENT_ID
    assert first["Weggelaten gegevens"] == "opmerkingen"
    assert re.fullmatch(r"[0-9a-f]{64}", first["Hash"])
    assert first["Kind (auditpseudoniem)"] == app.extensions["gateway"].audit.subject_ref(
        Bsn(BSN))
    refused = dict(zip(HEADERS, rows[-1]))
    assert (refused["Reden"], refused["Reden (code)"]) == ("Route niet toegestaan",
                                                           "route_not_allowed")
    again = io.StringIO(newline="")
    csv.writer(again, delimiter=";", lineterminator="\r\n").writerows(rows)
    assert b"\xef\xbb\xbf" + again.getvalue().encode("utf-8") == raw


def test_the_partners_excel_export_has_its_own_events_and_no_child(app, users):
    _, rows = excel(users["privacy-school"], "action=exchange.send")
    assert len(rows) == 1 + SENDS
    assert all(row[HEADERS.index("Kind (auditpseudoniem)")] == "" for row in rows[1:])
    assert last_event(app, "audit.export")["actor"]["user"].startswith("m.bakker")


def test_formula_cells_are_neutralised(app, users):
    _, rows = excel(users["privacy-operator"], "action=auth.failure")
    users_column = [dict(zip(HEADERS, row))["Gebruiker"] for row in rows[1:]]
    assert "'" + FORMULA_USER in users_column
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_the_export_keeps_the_api_csv_and_refuses_an_unknown_format(app, users):
    client = users["privacy-operator"]
    response = client.get("/ui/audit/export?format=csv&action=exchange.send")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == SENDS + 1 and rows[0]["action"] == "exchange.send"
    lines = client.get("/ui/audit/export?format=jsonl&action=exchange.send").get_data(
        as_text=True).splitlines()
    assert len(lines) == SENDS + 1 and json.loads(lines[0])["hash"]
    response = client.get("/ui/audit/export?format=xls")
    assert response.status_code == 400 and "Kies een export" in response.get_data(as_text=True)
    response = client.get("/ui/audit/export?format=excel&action=exchange.sent")
    assert response.status_code == 400
    assert "Kies een handeling uit de lijst." in response.get_data(as_text=True)


def test_the_help_page_explains_the_export_and_is_linked(app, users):
    client = users["privacy-operator"]
    assert 'href="/ui/audit/export/uitleg"' in page(client, "/ui/audit")
    body = page(client, "/ui/audit/export/uitleg")
    assert "<h1>Zo controleert u deze export</h1>" in body
    for column in HEADERS:
        assert f'<th scope="row">{column}</th>' in body, column
    for needed in ("JSON Lines", "SHA-256", "RFC 8785", "gateway audit verify",
                   "/api/v1/audit/verify", "/api/v1/audit/key", "/api/v1/audit/proof/",
                   "gateway audit export --format jsonl"):
        assert needed in body, needed
    assert page(users["privacy-school"], "/ui/audit/export/uitleg")


# the work of a page ----------------------------------------------------------------------------
def test_a_numbered_page_reads_the_log_with_one_count_and_one_page_query(app):
    """The total is one ``COUNT``; the page one bounded ``SELECT`` (no walk over the log)."""
    from sqlalchemy import event

    from gateway.audit.actors import Actor
    from gateway.audit.params import EventFilter

    services = app.extensions["gateway"]
    engine = services.db.engine
    reads: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        # the reads under the filter (the audited append may read for a checkpoint)
        if statement.lstrip().upper().startswith("SELECT") and "audit_events.action" in statement:
            reads.append(statement)

    event.listen(engine, "before_cursor_execute", remember)
    try:
        answer = services.audit.browse(
            Actor(SCHOOL, "school", user="officer"), EventFilter(action="exchange.send"), 2, 50)
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    assert (answer["total"], answer["pages"], answer["number"]) == (SENDS, 2, 2)
    assert len(answer["items"]) == SENDS - 50
    assert len(reads) == 2, reads
    assert sum("count(" in statement.lower() for statement in reads) == 1
    assert "LIMIT" in reads[1].upper() and "OFFSET" in reads[1].upper()
