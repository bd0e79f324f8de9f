"""The inzage answer (AVG art. 15) a privacy officer hands to a parent, for a fixed child.

The fixture: a school sent about one child to three organisations (Leerplicht once, the SWV
twice with one field withheld and one made coarser, the GGD once on consent), and the gateway
refused one send to WIJ. These events carry fixed dates, so they are written into the audit
log as the exchange service writes them. Then the same school sends about the same child once
more, in polymorphic mode, through the API as a partner does (the partner library
``thuiszitterspact_client`` encrypts the BSN itself, the SWV receives and opens it): the
gateway never sees that BSN, so the report cannot find that exchange, and must say so instead
of counting it. A second child is exchanged only in polymorphic mode. The expected summary
below is written by hand from that story, not read from the code.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pypdfium2
import pytest
import requests
import yaml
from joserfc.jwk import ECKey
from requests.adapters import BaseAdapter
from thuiszitterspact_client import GatewayClient

from gateway import create_app
from gateway.audit.log import AuditEvent, AuditLog
from gateway.clock import local_date
from gateway.config import Settings
from gateway.pep.issuing import Participant, issue
from pseudonymise import Bsn
from pseudonymise.pep import KeyIssuer
from tests.limits import FLOOD_LIMIT
from tests.saml_helpers import ORGANISATIONS, apply_file, devidp_login, migrated_sqlite

SCHOOL, SWV, GGD, WIJ, LEERPLICHT = (
    "00000001001234567000", "00000001002345678000", "00000001003456789000",
    "00000001004567890000", "00000001005678901000",
)
POLYMORPHIC_OIN = "00000001007890123000"
BSN = "111222333"
CONSENT = "c-0b5e9a"
ONLY_POLYMORPHIC = "271828006"  # a child the school and the SWV exchanged only polymorphically
PARTNERS = {SCHOOL: "regenboog-sis", SWV: "swv-stad-kantoor"}
"""The two organisations that also work in polymorphic mode, each with one API client."""


OTHER_CHILD = "123456782"  # named only by Leerplicht to the SWV: the school never knew it
WRONG_GUESS = "557934679"  # a valid BSN no event names


def elsewhere(child: str) -> list[tuple[datetime, AuditEvent]]:
    """A child the school never named: Leerplicht reported it to the SWV."""
    return [(at("2026-05-04T10:00:00"), AuditEvent(
        "exchange.send", "allowed", actor_org=LEERPLICHT, sender=LEERPLICHT, recipient=SWV,
        message_type="homebound_report", purpose="homebound_monitoring", exchange_id="ex-9",
        legal_basis={"type": "legal_obligation", "citation": "Leerplichtwet 1969 art. 25"},
        subject_ref=child, clear_to=(LEERPLICHT,), pseudonym_to=(SWV,)))]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def story(child: str) -> list[tuple[datetime, AuditEvent]]:
    send = dict(action="exchange.send", actor_org=SCHOOL, sender=SCHOOL, subject_ref=child)
    return [
        (at("2026-03-02T08:15:00"), AuditEvent(
            decision="allowed", recipient=LEERPLICHT, message_type="absence_report",
            purpose="leerplicht_enforcement",
            legal_basis={"type": "legal_obligation", "citation": "Leerplichtwet 1969 art. 21a"},
            fields_forwarded=["absence_type", "start_date", "unauthorised_hours_4_weeks"],
            exchange_id="ex-1", **send)),
        (at("2026-03-02T09:00:00"), AuditEvent(
            "exchange.deliver", "allowed", actor_org=LEERPLICHT, sender=SCHOOL,
            recipient=LEERPLICHT, message_type="absence_report", exchange_id="ex-1",
            subject_ref=child)),
        (at("2026-03-02T08:16:00"), AuditEvent(
            decision="allowed", recipient=SWV, message_type="absence_report",
            purpose="passend_onderwijs",
            legal_basis={"type": "legal_obligation",
                         "citation": "Wet passend onderwijs (zorgplicht)"},
            fields_forwarded=["absence_type", "start_date"], fields_dropped=["remarks"],
            fields_generalised=["date_of_birth"], exchange_id="ex-2", **send)),
        (at("2026-04-10T12:00:00"), AuditEvent(
            decision="allowed", recipient=SWV, message_type="absence_report",
            purpose="passend_onderwijs",
            legal_basis={"type": "legal_obligation",
                         "citation": "Wet passend onderwijs (zorgplicht)"},
            fields_forwarded=["absence_type", "start_date"], exchange_id="ex-3", **send)),
        (at("2026-05-20T09:30:00"), AuditEvent(
            decision="allowed", recipient=GGD, message_type="sickness_absence_referral",
            purpose="mazl", legal_basis={"type": "consent", "consent_id": CONSENT},
            consent_id=CONSENT, fields_forwarded=["sick_days_12_weeks", "concern"],
            exchange_id="ex-4", **send)),
        (at("2026-05-21T10:00:00"), AuditEvent(
            decision="denied", reason="consent_missing", recipient=WIJ,
            message_type="support_request", **send)),
    ]


class FlaskTransport(BaseAdapter):
    """requests -> the Flask test client, so the partner library talks to this gateway."""

    def __init__(self, app) -> None:
        super().__init__()
        self.client = app.test_client()

    def send(self, request, **kwargs):
        url = urlsplit(request.url)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
        answer = self.client.open(url.path, method=request.method, query_string=url.query,
                                  headers=headers, data=request.body)
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers.update(dict(answer.headers))
        response._content = answer.get_data()
        response.url, response.request = request.url, request
        return response

    def close(self) -> None:
        pass


def registered(folder, keys: dict[str, ECKey]) -> str:
    """A migrated database with the demo organisations; the school and the SWV also in
    polymorphic mode with one client each, and a Jeugdteam that works only polymorphically."""
    organisations = []
    for oin, name, type_ in ORGANISATIONS:
        entry = {"oin": oin, "name": name, "type": type_, "polymorphic": oin in PARTNERS}
        if oin in PARTNERS:
            entry["clients"] = [{
                "client_id": PARTNERS[oin], "auth": "private_key_jwt",
                "jwks": {"keys": [keys[oin].as_dict(private=False)]},
                "scopes": ["exchange:send", "exchange:receive"]}]
        organisations.append(entry)
    organisations.append({"oin": POLYMORPHIC_OIN, "name": "Jeugdteam Noord", "type": "wij",
                          "polymorphic": True})
    url = migrated_sqlite(folder)
    (folder / "bootstrap.yaml").write_text(yaml.safe_dump({"organisations": organisations}))
    apply_file(url, folder / "bootstrap.yaml")
    return url


def partner(app, oin: str, key: ECKey) -> GatewayClient:
    settings = app.extensions["gateway"].settings
    session = requests.Session()
    session.mount(settings.base_url, FlaskTransport(app))
    return GatewayClient(settings.base_url, PARTNERS[oin], key.as_dict(private=True), oin=oin,
                         session=session)


def absence_report() -> dict:
    """What the school sends polymorphically: dated from the contract's today, since the
    gateway checks the dates against the day of sending."""
    today = local_date(datetime.now(UTC))
    return {
        "absence_type": "relative", "start_date": (today - timedelta(days=30)).isoformat(),
        "unauthorised_hours_4_weeks": 30, "reason_category": "unauthorised",
        "education_sector": "po", "school_brin": "12AB",
        "date_of_birth": today.replace(year=today.year - 10, day=1).isoformat(),
        "grade": "groep 6", "contact": {"name": "Juf Jansen", "email": "jansen@regenboog.test"},
        "remarks": "Sinds oktober vaak afwezig.",
    }


@pytest.fixture(scope="module")
def polymorphic_sends() -> list[dict]:
    """The gateway's answers to the school's polymorphic sends (filled by ``app``)."""
    return []


@pytest.fixture(scope="module")
def app(keys_dir, tmp_path_factory, polymorphic_sends):
    folder = tmp_path_factory.mktemp("web-inzage")
    keys = shutil.copytree(keys_dir, folder / "keys")  # issuing writes here: ours alone
    client_keys = {oin: ECKey.generate_key("P-256", parameters={
        "kid": f"{client}-1", "alg": "ES256", "use": "sig"}) for oin, client in PARTNERS.items()}
    url = registered(folder, client_keys)
    issue(KeyIssuer.generate(), [
        Participant(oin, {client: {"keys": [client_keys[oin].as_dict(private=False)]}})
        for oin, client in PARTNERS.items()], keys)
    application = create_app(Settings(database_url=url, keys_dir=keys,
                                      rate_limit_address=FLOOD_LIMIT))
    application.config["TESTING"] = True
    services = application.extensions["gateway"]
    log = AuditLog()
    events = story(services.audit.subject_ref(Bsn(BSN)))
    events += elsewhere(services.audit.subject_ref(Bsn(OTHER_CHILD)))
    for moment, event in sorted(events, key=lambda pair: pair[0]):
        with services.db.write_session() as session:
            log.append(session, event, moment)
    # the partners' own polymorphic exchanges, through the API, today
    school = partner(application, SCHOOL, client_keys[SCHOOL])
    swv = partner(application, SWV, client_keys[SWV])
    for child in (BSN, ONLY_POLYMORPHIC):
        polymorphic_sends.append(
            school.send_polymorphic("absence_report", SWV, child, absence_report()))
    received = swv.receive()
    assert sorted(item["id"] for item in received) == sorted(
        send["id"] for send in polymorphic_sends)
    assert all(item["pseudonym"] and "pseudonym_error" not in item for item in received)
    for item in received:
        swv.ack(item["id"])
    yield application
    services.db.dispose()


@pytest.fixture(scope="module")
def officer(app):
    client = app.test_client()
    assert devidp_login(client, "privacy-operator").status_code == 303
    return client


def token_of(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"',
                     client.get("/ui/").get_data(as_text=True)).group(1)


def flat(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def report_page(client) -> str:
    response = client.post("/ui/audit/subject", data={"bsn": BSN, "csrf_token": token_of(client)})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def summary_rows(html: str) -> dict[str, dict[str, str]]:
    rows = {}
    for article in re.findall(r'<article class="inzage-recipient">(.*?)</article>', html, re.S):
        name = flat(re.search(r"<h3>(.*?)</h3>", article, re.S).group(1))
        rows[name] = {key: flat(value) for key, value in
                      re.findall(r'<dd class="([a-z]+)">(.*?)</dd>', article, re.S)}
    return rows


EXPECTED = {
    "GGD Groningen": {
        "what": "Verwijzing bij ziekteverzuim", "count": "1 keer",
        "first": "20-05-2026 11:30", "last": "20-05-2026 11:30",
        "purpose": "MAZL (ziekteverzuim)", "basis": "Toestemming",
        "forwarded": "ziektedagen in 12 weken, zorg", "dropped": "geen", "generalised": "geen",
        "consent": f"ja, vastgelegd als {CONSENT}",
    },
    "Leerplicht Groningen": {
        "what": "Verzuimmelding", "count": "1 keer",
        "first": "02-03-2026 09:15", "last": "02-03-2026 09:15",
        "purpose": "Handhaving van de leerplicht",
        "basis": "Wettelijke plicht (Leerplichtwet 1969 art. 21a)",
        "forwarded": "soort verzuim, begindatum, ongeoorloofde uren in 4 weken",
        "dropped": "geen", "generalised": "geen", "consent": "niet nodig of niet gebruikt",
    },
    "SWV Groningen Stad": {
        "what": "Verzuimmelding", "count": "2 keer",
        # winter time (UTC+1) in March, summer time (UTC+2) in April
        "first": "02-03-2026 09:16", "last": "10-04-2026 14:00",
        "purpose": "Passend onderwijs (zorgplicht)",
        "basis": "Wettelijke plicht (Wet passend onderwijs (zorgplicht))",
        "forwarded": "soort verzuim, begindatum", "dropped": "opmerkingen",
        "generalised": "geboortedatum", "consent": "niet nodig of niet gebruikt",
    },
}


def test_the_summary_names_each_receiving_organisation_with_what_it_got(officer):
    html = report_page(officer)
    assert summary_rows(html) == EXPECTED
    assert list(summary_rows(html)) == sorted(EXPECTED), "ordered by name"
    assert BSN not in html, "not even in a hidden field"


def test_the_refused_send_is_listed_as_not_forwarded(officer):
    html = report_page(officer)
    table = re.search(r'<table class="inzage-refusals">(.*?)</table>', html, re.S).group(1)
    row = flat(re.search(r"<tbody>(.*?)</tbody>", table, re.S).group(1))
    assert row == ("21-05-2026 12:00 OBS De Regenboog WIJ Groningen Ondersteuningsvraag "
                   "Er is geen toestemming vastgelegd voor deze uitwisseling.")
    assert "WIJ Groningen" not in "".join(summary_rows(html)), "refused: WIJ received nothing"


def test_the_timeline_counts_events_per_local_day(officer):
    html = report_page(officer)
    timeline = flat(re.search(r'<ol class="timeline">(.*?)</ol>', html, re.S).group(1))
    assert timeline.startswith(
        "02-03-2026 – 3 gebeurtenissen: 2× bericht verstuurd, 1× bericht afgeleverd "
        "10-04-2026 – 1 gebeurtenis: 1× bericht verstuurd "
        "20-05-2026 – 1 gebeurtenis: 1× bericht verstuurd "
        "21-05-2026 – 1 gebeurtenis: 1× bericht verstuurd")


def test_the_polymorphic_statement_is_always_there_and_names_the_organisations(officer):
    for html in (officer.get("/ui/audit/subject").get_data(as_text=True), report_page(officer)):
        statement = flat(re.search(r'<section class="notice inzage-limits" id="polymorphic-limit"'
                                   r'.*?</section>', html, re.S).group(0))
        assert "polymorfe modus" in statement
        assert "niet op BSN terugvinden" in statement
        assert "Jeugdteam Noord" in statement
        assert "GGD Groningen" not in statement, "only the organisations flagged polymorphic"


POLYMORPHIC_ORGANISATIONS = ["Jeugdteam Noord", "OBS De Regenboog", "SWV Groningen Stad"]
STORY_SENDS_UTC = ["2026-05-21 10:00:00", "2026-05-20 09:30:00", "2026-04-10 12:00:00",
                   "2026-03-02 08:16:00", "2026-03-02 08:15:00"]
"""The school's five sends of the story (four forwarded, one refused), newest first."""


def report_for(client, bsn: str) -> str:
    response = client.post("/ui/audit/subject", data={"bsn": bsn, "csrf_token": token_of(client)})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def statement_organisations(html: str) -> list[str]:
    items = re.search(r'<ul class="polymorphic-organisations">(.*?)</ul>', html, re.S).group(1)
    return [flat(item) for item in re.findall(r"<li>(.*?)</li>", items, re.S)]


def exchange_rows(client, html: str) -> list[list[str]]:
    """The CSV rows of the report about messages (sent, delivered, acknowledged)."""
    rows = list(csv.reader(io.StringIO(
        download(client, html, "csv").get_data().decode("utf-8-sig")), delimiter=";"))
    return [row for row in rows[1:] if row[3].startswith(("bericht", "ontvangst"))]


def test_the_polymorphic_exchange_happened_and_is_in_the_audit_log(app, polymorphic_sends):
    """The control: the school's polymorphic sends were accepted and audited, so what the
    report leaves out below is left out because it cannot be found, not because it is absent."""
    from gateway.audit.models import AuditEventRow
    assert [send["status"] for send in polymorphic_sends] == ["accepted", "accepted"]
    with app.extensions["gateway"].db.session() as session:
        for send in polymorphic_sends:
            row = session.get(AuditEventRow, send["audit"]["seq"])
            event = json.loads(row.canonical)
            assert (event["action"], event["decision"], event["sender"], event["recipient"],
                    event["message_type"]) == (
                "exchange.send", "allowed", SCHOOL, SWV, "absence_report")
            assert row.subject_ref, "it is about a child, by the polymorphic link"


def test_a_polymorphic_exchange_is_not_reported_as_found(officer, polymorphic_sends):
    """The same school sent about the same child once more, in polymorphic mode, to the SWV.
    The gateway never had that BSN, so the report cannot know it: the SWV still received
    twice (on the story's dates, with the story's fields), and no event of it is listed."""
    html = report_page(officer)
    swv = summary_rows(html)["SWV Groningen Stad"]
    assert (swv["count"], swv["first"], swv["last"]) == (
        "2 keer", "02-03-2026 09:16", "10-04-2026 14:00")
    assert swv["forwarded"] == "soort verzuim, begindatum", "not the polymorphic send's fields"
    sent = [row[2] for row in exchange_rows(officer, html) if row[3] == "bericht verstuurd"]
    assert sent == STORY_SENDS_UTC
    assert [row[2] for row in exchange_rows(officer, html) if row[3] != "bericht verstuurd"] == [
        "2026-03-02 09:00:00"], "only Leerplicht's delivery of the story"
    numbers = set(re.findall(r"<tr>\s*<td>(\d+)</td>", html))
    assert len(numbers) >= 7, "the story's six events and the officer's own are listed"
    for send in polymorphic_sends:
        assert str(send["audit"]["seq"]) not in numbers
        assert send["id"] not in html
    assert statement_organisations(html) == POLYMORPHIC_ORGANISATIONS


def test_a_child_exchanged_only_polymorphically_gets_the_statement_not_a_false_nothing(officer):
    """The issue's case: nothing can be found by BSN, and the answer must not read as
    "nothing was shared". The statement names the organisations to ask; the AVG part does
    not claim that there were no recipients and no source."""
    html = report_for(officer, ONLY_POLYMORPHIC)
    assert summary_rows(html) == {}
    assert exchange_rows(officer, html) == []
    summary = flat(re.search(r'<section class="inzage-summary".*?</section>', html, re.S).group(0))
    assert ("Volgens de auditlog heeft geen organisatie via de gateway gegevens over dit kind "
            "ontvangen. Lees ook wat dit rapport niet kan bevatten.") in summary
    assert statement_organisations(html) == POLYMORPHIC_ORGANISATIONS
    avg = re.search(r'<section class="inzage-avg".*?</section>', html, re.S).group(0)
    facts = {flat(term): flat(value) for term, value in
             re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", avg, re.S)}
    for term in ("Ontvangers", "Herkomst van de gegevens"):
        assert "polymorfe modus" in facts[term], (term, facts[term])
        assert "Jeugdteam Noord, OBS De Regenboog, SWV Groningen Stad" in facts[term]
    assert facts["Ontvangers"].startswith("Volgens de auditlog geen.")
    assert ONLY_POLYMORPHIC not in html

def test_the_avg_article_15_information_is_given_in_plain_dutch(officer):
    avg = flat(re.search(r'<section class="inzage-avg".*?</section>',
                         report_page(officer), re.S).group(0))
    for phrase in ("Handhaving van de leerplicht", "Passend onderwijs (zorgplicht)",
                   "MAZL (ziekteverzuim)",  # purposes
                   "ongeoorloofde uren in 4 weken",  # categories
                   "GGD Groningen, Leerplicht Groningen, SWV Groningen Stad",  # recipients
                   "Verzuimmelding: 365 dagen", "Verwijzing bij ziekteverzuim: 180 dagen",
                   "aangeleverd door: OBS De Regenboog",  # source
                   "Verbetering", "Verwijdering", "Beperking", "Bezwaar",
                   "klacht indienen bij de Autoriteit Persoonsgegevens"):
        assert phrase in avg, phrase


def test_the_events_come_newest_first(officer):
    html = report_page(officer)
    events = re.search(r'<table class="events">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    numbers = [int(n) for n in re.findall(r"<tr>\s*<td>(\d+)</td>", events)]
    assert numbers == sorted(numbers, reverse=True) and len(numbers) >= 6


def download(client, html: str, fmt: str):
    reference = re.search(r'name="ref" value="([^"]+)"', html).group(1)
    return client.post("/ui/audit/subject/download",
                       data={"ref": reference, "format": fmt, "csrf_token": token_of(client)})


def test_the_csv_opens_in_dutch_excel(officer):
    response = download(officer, report_page(officer), "csv")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [
        "Nr.", "Tijdstip (Nederlandse tijd)", "Tijdstip (UTC)", "Handeling", "Door", "Van",
        "Naar", "Berichttype", "Doel", "Grondslag", "Toestemming", "Besluit", "Reden",
        "Doorgegeven gegevens", "Weggelaten gegevens", "Gegeneraliseerde gegevens",
        "Proces", "Processtap"]
    by_time = {row[2]: row for row in rows[1:]}
    assert by_time["2026-03-02 08:16:00"][1:] == [
        "02-03-2026 09:16:00", "2026-03-02 08:16:00", "bericht verstuurd", "OBS De Regenboog",
        "OBS De Regenboog", "SWV Groningen Stad", "Verzuimmelding",
        "Passend onderwijs (zorgplicht)",
        "Wettelijke plicht (Wet passend onderwijs (zorgplicht))", "", "toegestaan", "",
        "soort verzuim, begindatum", "opmerkingen", "geboortedatum", "", ""]
    refused = by_time["2026-05-21 10:00:00"]
    assert refused[11:13] == ["geweigerd",
                              "Er is geen toestemming vastgelegd voor deze uitwisseling."]
    assert by_time["2026-05-20 09:30:00"][10] == CONSENT
    assert BSN not in response.data.decode("utf-8-sig")
    # round trip: written back as Excel writes ";"-separated UTF-8, it is the same file
    again = io.StringIO()
    csv.writer(again, delimiter=";", lineterminator="\r\n").writerows(rows)
    assert ("\ufeff" + again.getvalue()).encode("utf-8") == response.data
    assert len({len(row) for row in rows}) == 1, "every row has all eighteen columns"


ARTEFACTS = Path(__file__).resolve().parents[1] / "browser" / "artifacts"
SUMMARY_TERMS = (("what", "Wat"), ("count", "Hoe vaak"), ("first", "Eerste keer"),
                 ("last", "Laatste keer"), ("purpose", "Doel"), ("basis", "Grondslag"),
                 ("forwarded", "Doorgegeven gegevens"), ("dropped", "Weggelaten gegevens"),
                 ("generalised", "Algemener gemaakt"), ("consent", "Toestemming"))


def summary_text(name: str) -> str:
    """The hand-written summary of one organisation as a reader reads it in the PDF."""
    return " ".join([name, *(f"{term} {EXPECTED[name][key]}" for key, term in SUMMARY_TERMS)])


def pdf_pages(data: bytes) -> tuple[list[str], list]:
    """Each page's text (pdfium's own text layer) and page 1 drawn as a picture."""
    document = pypdfium2.PdfDocument(data)
    try:
        texts = [page.get_textpage().get_text_bounded() for page in document]
        return texts, [document[0].render(scale=1.5).to_pil()]
    finally:
        document.close()


def test_the_pdf_renders_and_holds_the_summary_and_the_statement(officer, polymorphic_sends):
    response = download(officer, report_page(officer), "pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    texts, (picture,) = pdf_pages(response.data)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    picture.save(ARTEFACTS / "inzage-pdf-page-1.png")
    grey = picture.convert("L")
    dark = sum(grey.histogram()[:100])
    assert grey.size == (893, 1263), "A4 at 108 dpi"
    assert 0.005 < dark / (grey.width * grey.height) < 0.5, "text on the page, not blank"
    text = re.sub(r"\s+", " ", " ".join(texts))
    assert text.startswith("Inzageverzoek: wie heeft wat ontvangen over dit kind")
    for name in EXPECTED:
        assert summary_text(name) in text, name
    assert ("Niet doorgegeven: door de gateway geweigerd Tijdstip Van Bedoeld voor Wat "
            "Waarom geweigerd 21-05-2026 12:00 OBS De Regenboog WIJ Groningen "
            "Ondersteuningsvraag Er is geen toestemming vastgelegd voor deze uitwisseling."
            ) in text
    assert ("Wat dit rapport niet kan bevatten Sommige organisaties wisselen gegevens uit in de "
            "polymorfe modus.") in text
    assert ("Vraag hen zelf welke gegevens zij over het kind hebben uitgewisseld: "
            "Jeugdteam Noord OBS De Regenboog SWV Groningen Stad") in text
    assert "klacht indienen bij de Autoriteit Persoonsgegevens" in text
    assert re.search(r"pagina 1 van [0-9]+", text)
    # the day of the polymorphic sends has no message event, in the timeline or the table
    zone = ZoneInfo("Europe/Amsterdam")
    for day in {datetime.fromisoformat(send["created_at"].replace("Z", "+00:00"))
                .astimezone(zone).strftime("%d-%m-%Y") for send in polymorphic_sends}:
        assert not re.search(rf"{day} [0-9:]+ (bericht|ontvangst)", text)
        assert not any(re.search(rf"^{day} – .*bericht", page, re.M) for page in texts)
    for send in polymorphic_sends:
        assert send["id"] not in text
    assert BSN not in text


def test_a_reference_opens_only_for_the_officer_it_was_made_for(app, officer):
    html = report_page(officer)
    other = app.test_client()
    assert devidp_login(other, "privacy-school").status_code == 303
    assert download(other, html, "csv").status_code == 400
    forged = other.post("/ui/audit/subject/download", data={
        "ref": "AAAAAQ" + "A" * 40, "format": "csv", "csrf_token": token_of(other)})
    assert forged.status_code == 400
    unknown_key = other.post("/ui/audit/subject/download", data={  # key version 2**32-1
        "ref": "_____w" + "A" * 40, "format": "csv", "csrf_token": token_of(other)})
    assert unknown_key.status_code == 400


def test_downloads_are_posts_with_the_csrf_token(officer):
    html = report_page(officer)
    reference = re.search(r'name="ref" value="([^"]+)"', html).group(1)
    assert officer.get("/ui/audit/subject/download").status_code == 405
    refused = officer.post("/ui/audit/subject/download", data={"ref": reference, "format": "csv"})
    assert refused.status_code in (400, 403)


LOCAL_TIME = r"[0-9]{2}-[0-9]{2}-[0-9]{4} [0-9]{2}:[0-9]{2}"
NONCES = (r'name="ref" value="[^"]+"', r'name="csrf_token" value="[^"]+"')


def _answer_without_nonces(client, bsn: str) -> tuple[str, list[list[str]]]:
    """The page and its CSV rows for ``bsn``, without what differs on every answer anyway:
    the CSRF token and the sealed reference (fresh random values), and the sequence number
    and time of the officer's own ``audit.subject_report`` events (each probe adds them, so
    the second probe's are later, whatever the BSN)."""
    response = client.post("/ui/audit/subject", data={"bsn": bsn, "csrf_token": token_of(client)})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(
        download(client, html, "csv").get_data().decode("utf-8-sig")), delimiter=";"))
    for pattern in NONCES:
        html = re.sub(pattern, "", html)
    html = re.sub(rf"<td>[0-9]+</td>(\s*<td>){LOCAL_TIME}", r"<td>seq</td>\1time", html)
    html = re.sub(LOCAL_TIME, "time", html)
    own = [[re.sub(r"[0-9]", "9", cell) for cell in row] for row in rows[1:]]
    return html.replace(bsn, "<bsn>"), rows[:1] + own


def test_a_partner_officer_cannot_tell_a_right_guess_from_a_wrong_one(app):
    """API.md section 13 rule 2 on the web: the school's officer guesses the BSN of a child
    only Leerplicht and the SWV exchanged about. The inzage answer (page, summary, AVG text,
    polymorphic statement, CSV) must be the same as for a BSN nobody named."""
    school = app.test_client()
    assert devidp_login(school, "privacy-school").status_code == 303
    right = _answer_without_nonces(school, OTHER_CHILD)
    wrong = _answer_without_nonces(school, WRONG_GUESS)
    assert right == wrong
    # and the operator's officer does see the child: the fixture is not empty by accident
    operator = app.test_client()
    assert devidp_login(operator, "privacy-operator").status_code == 303
    assert _answer_without_nonces(operator, OTHER_CHILD) != _answer_without_nonces(
        operator, WRONG_GUESS)

