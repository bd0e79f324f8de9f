"""The pact's processes on the privacy officer's pages (docs/pact-workflows.md section 9): the
inzage answer's "Processen rond dit kind" (page, CSV, PDF) and the operator's "Hele proces".

The story goes through the cases API as the partners use it: OBS De Regenboog records the
parents' consent and convenes a consultation with the GGD, WIJ and Leerplicht; the GGD and
Leerplicht accept, WIJ declines (not involved); the school records three agreements with
Leerplicht as regiehouder. Leerplicht asks the GGD and the SWV for exemption advice; the GGD
advises "fit with adjustments", the SWV "available with conditions"; Leerplicht decides "no
exemption". The escalation of an earlier homebound period (the daily run needs a regional
world this test does not build) is written into the tables and the audit log as the
escalation service writes it, with its ``case_id``.

Who may read what is section 9's rule 2: a partner's officer asks by BSN and sees the events
in which its organisation named or received that BSN: the school sees its consultation;
Leerplicht the exemption it asked for (its consultation invitation carried its pseudonym:
routes.yaml leaves OPEN-8 undecided); the GGD (pseudonym in the consultation, BSN in the
exemption request) only the exemption, as an adviser; the SWV and WIJ (pseudonyms only) no
process. The sentences are written from the design.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pypdfium2
import pytest
from sqlalchemy import select

from gateway.audit.log import AuditEvent, AuditLog
from gateway.audit.models import AuditEventRow
from gateway.pact.models import (
    PactCase,
    PactDisclosure,
    PactEscalation,
    PactParticipant,
)
from gateway.registry.models import Region
from gateway.saml.identity import SamlIdentity
from gateway.storage.models import Organisation
from pseudonymise import Bsn
from tests import exchange_helpers as ex
from tests.functional_partners import AppPartners
from tests.saml_helpers import migrated_sqlite

TODAY = ex.today()
MEETING = TODAY + timedelta(days=7)
DUE = TODAY + timedelta(days=14)
REVIEW = TODAY + timedelta(days=28)
ESCALATION_CASE = "9d0c6f1e-5b7a-4c2e-8f3a-0e1d2c3b4a59"


def day(value: date) -> str:
    return value.strftime("%d-%m-%Y")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def open_case(partners: AppPartners, sender: str, body: dict) -> dict:
    answer = partners.client.post(
        "/api/v1/cases",
        json=body,
        headers=partners.headers(sender, **{"Idempotency-Key": uuid.uuid4().hex}),
    )
    assert answer.status_code == 201, answer.json
    return answer.json


def inbox(partners: AppPartners, oin: str, message_type: str) -> dict:
    [item] = [
        item
        for item in partners.get(oin, "/api/v1/inbox").json["items"]
        if item["message_type"] == message_type
    ]
    return item


def consultation(partners: AppPartners) -> dict:
    consent = partners.post(
        ex.SCHOOL,
        "/api/v1/consents",
        {
            "subject": {"bsn": ex.BSN},
            "date_of_birth": ex.born(TODAY, 12),
            "purpose": "case_consultation",
            "parties": [ex.SCHOOL, "ggd", "wij", "leerplicht"],
            "granted_by": [{"role": "parent"}, {"role": "youth"}],
            "valid_from": TODAY.isoformat(),
            "valid_until": (TODAY + timedelta(days=180)).isoformat(),
            "evidence": {"method": "written", "reference": "TOESTEMMING-7"},
        },
    )
    assert consent.status_code == 201, consent.json
    opened = open_case(
        partners,
        ex.SCHOOL,
        {
            "kind": "consultation",
            "subject": {"bsn": ex.BSN},
            "invite": [ex.GGD, ex.WIJ, ex.LEERPLICHT],
            "payload": {
                "meeting": {"date": MEETING.isoformat(), "time": "14:30", "mode": "in_person"},
                "question": "prevent_dropout",
                "concern_categories": ["wellbeing"],
                "education_sector": "po",
                "school_brin": "12AB",
                "date_of_birth": ex.born(TODAY, 12),
                "respond_by": TODAY.isoformat(),
                "contact": {"name": "Mentor J. de Vries", "email": "mentor@regenboog.example.nl"},
            },
        },
    )
    refs = {ex.SCHOOL: opened["case_ref"]}
    for oin in (ex.GGD, ex.WIJ, ex.LEERPLICHT):
        refs[oin] = inbox(partners, oin, "case_invitation")["payload"]["case_ref"]
    for oin, answer, body in (
        (ex.GGD, "accept", None),
        (ex.LEERPLICHT, "accept", None),
        (ex.WIJ, "decline", {"reason": "not_involved"}),
    ):
        response = partners.post(oin, f"/api/v1/cases/{refs[oin]}/{answer}", body)
        assert response.status_code == 200, response.json
    agreed = partners.post(
        ex.SCHOOL,
        f"/api/v1/cases/{refs[ex.SCHOOL]}/agreements",
        {
            "regie": ex.LEERPLICHT,
            "agreements": [
                {"party": ex.GGD, "action": "jgz_consultation", "due_date": DUE.isoformat()},
                {"party": "school", "action": "adjusted_timetable", "due_date": DUE.isoformat()},
                {"party": "parents", "action": "attend_conversation", "due_date": DUE.isoformat()},
            ],
            "next_review_date": REVIEW.isoformat(),
        },
    )
    assert agreed.status_code == 201, agreed.json
    return refs


def exemption(partners: AppPartners) -> dict:
    opened = open_case(
        partners,
        ex.LEERPLICHT,
        {
            "kind": "exemption_advice",
            "subject": {"bsn": ex.BSN},
            "advisers": [ex.GGD, ex.SWV],
            "payload": {
                "school_year": f"{TODAY.year}-{TODAY.year + 1}",
                "requested_on": TODAY.isoformat(),
                "education_sector": "po",
                "date_of_birth": ex.born(TODAY, 12),
                "enrolment": "enrolled",
                "school_brin": "12AB",
                "statement_by": "physician",
                "respond_by": TODAY.isoformat(),
                "contact": {"name": "L. Bakker", "email": "leerplicht@groningen.example.nl"},
            },
        },
    )
    refs = {ex.LEERPLICHT: opened["case_ref"]}
    for oin, message_type, payload in (
        (ex.GGD, "exemption_medical_advice", {"advice": "fit_with_adjustments"}),
        (
            ex.SWV,
            "exemption_education_advice",
            {"arrangement": "available_with_conditions", "options": ["adjusted_timetable"]},
        ),
    ):
        request = inbox(partners, oin, "exemption_advice_request")
        refs[oin] = request["payload"]["case_ref"]
        sent = partners.send(
            oin,
            message_type,
            ex.LEERPLICHT,
            {"in_reply_to": request["id"], "contact": ex.CONTACT, **payload},
            subject=request["subject"],
        )
        assert sent.status_code == 202, sent.json
    decided = partners.post(
        ex.LEERPLICHT,
        f"/api/v1/cases/{refs[ex.LEERPLICHT]}/decision",
        {"decision": "not_exempted", "decided_on": TODAY.isoformat()},
    )
    assert decided.status_code == 200, decided.json
    return refs


def escalation(partners: AppPartners) -> None:
    """An escalation of 2026 as the daily run leaves it: the case, its holder (the SWV) and
    reporter (Leerplicht), the period, the disclosures and their events, closed by a
    placement. Every event carries the child only by the recipients' pseudonyms."""
    services = partners.services
    child = services.audit.subject_ref(Bsn(ex.BSN))
    fired, placed = at("2026-01-31T04:00:05"), at("2026-02-20T10:12:00")
    with services.db.write_session() as session:
        ids = dict(session.execute(select(Organisation.oin, Organisation.id)).all())
        session.add(
            Region(
                code="groningen",
                name="Thuiszitterspact 2.0 Groningen",
                homebound_norm_days=91,
                escalation_org_id=ids[ex.SWV],
                escalation_basis=ex.GRONINGEN_BASIS,
            )
        )
        session.add(
            PactCase(
                id=ESCALATION_CASE,
                kind="escalation",
                status="closed",
                subject_ref=child,
                purpose="homebound_escalation",
                region_code="groningen",
                created_at=fired,
                updated_at=placed,
                closed_at=placed,
                close_reason="placed",
            )
        )
        session.flush()
        for oin, role, ref in (
            (ex.SWV, "holder", "ref-esc-holder"),
            (ex.LEERPLICHT, "reporter", "ref-esc-reporter"),
        ):
            session.add(
                PactParticipant(
                    case_id=ESCALATION_CASE,
                    org_id=ids[oin],
                    role=role,
                    case_ref=str(uuid.uuid5(uuid.NAMESPACE_URL, ref)),
                    status="notified",
                    joined_at=fired,
                )
            )
        session.add(
            PactEscalation(
                case_id=ESCALATION_CASE,
                subject_ref=child,
                reporter_org_id=ids[ex.LEERPLICHT],
                holder_org_id=ids[ex.SWV],
                region_code="groningen",
                category="long_relative_absence",
                since_date=date(2025, 11, 1),
                norm_days=91,
                fired_on=date(2026, 1, 31),
                placed_date=date(2026, 2, 20),
                closed_on=date(2026, 2, 20),
                delivered=True,
            )
        )
        for learner, learned in (
            (ex.SWV, ex.LEERPLICHT),
            (ex.SWV, ex.SCHOOL),
            (ex.LEERPLICHT, ex.SWV),
        ):
            session.add(
                PactDisclosure(
                    case_id=ESCALATION_CASE,
                    learner_org_id=ids[learner],
                    learned_org_id=ids[learned],
                    at=fired,
                )
            )
    log = AuditLog()
    common = dict(
        subject_ref=child,
        case_id=ESCALATION_CASE,
        purpose="homebound_escalation",
        actor_org=ex.OPERATOR,
    )
    events = [(fired, AuditEvent("escalation.open", "allowed", **common))]
    events += [
        (
            fired,
            AuditEvent(
                "exchange.send",
                "allowed",
                sender=ex.OPERATOR,
                recipient=oin,
                message_type="homebound_escalation",
                exchange_id=f"esc-{oin[-6:]}",
                pseudonym_to=(oin,),
                **common,
            ),
        )
        for oin in (ex.SWV, ex.LEERPLICHT)
    ]
    events += [
        (fired, AuditEvent("case.disclose", "allowed", sender=learned, recipient=learner, **common))
        for learner, learned in (
            (ex.SWV, ex.LEERPLICHT),
            (ex.SWV, ex.SCHOOL),
            (ex.LEERPLICHT, ex.SWV),
        )
    ]
    events += [(placed, AuditEvent("escalation.close", "allowed", reason="placed", **common))]
    for moment, event in events:
        with services.db.write_session() as session:
            log.append(session, event, moment)


@pytest.fixture(scope="module")
def world(tmp_path_factory, keys_dir):
    partners = AppPartners(migrated_sqlite(tmp_path_factory.mktemp("inzage-processes")), keys_dir)
    escalation(partners)
    refs = {"consultation": consultation(partners), "exemption": exemption(partners)}
    yield partners, refs
    partners.services.db.dispose()


def officer(partners: AppPartners, oin: str, name: str = "officer"):
    """A privacy officer of ``oin``, logged in (a session as the SAML login makes one)."""
    token = partners.services.web_sessions.create(
        SamlIdentity(
            f"{name}-{oin}@example.test",
            None,
            None,
            f"Officier {oin[-6:]}",
            oin,
            ("privacy_officer",),
        )
    )
    client = partners.app.test_client()
    client.set_cookie("gateway_session", token)
    return client


def token_of(client) -> str:
    return re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/ui/").get_data(as_text=True)
    ).group(1)


def flat(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def report(client) -> str:
    answer = client.post("/ui/audit/subject", data={"bsn": ex.BSN, "csrf_token": token_of(client)})
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def blocks(html: str) -> dict[str, list[str]]:
    """Each process block's title and sentences."""
    found = {}
    for article in re.findall(r'<article class="inzage-process">(.*?)</article>', html, re.S):
        title = flat(re.search(r"<h3>(.*?)</h3>", article, re.S).group(1))
        found[title] = [flat(item) for item in re.findall(r"<li>(.*?)</li>", article, re.S)]
    return found


def disclosures(html: str) -> list[str]:
    listing = re.search(r'<ul class="inzage-disclosures"[^>]*>(.*?)</ul>', html, re.S)
    return [flat(item) for item in re.findall(r"<li>(.*?)</li>", listing.group(1), re.S)]


def download(client, html: str, fmt: str):
    reference = re.search(r'name="ref" value="([^"]+)"', html).group(1)
    return client.post(
        "/ui/audit/subject/download",
        data={"ref": reference, "format": fmt, "csrf_token": token_of(client)},
    )


CONSULTATION = "Casusoverleg"
EXEMPTION = "Advies vrijstelling (art. 5 onder a Leerplichtwet)"
ESCALATION = "Escalatie (doorzettingsmacht)"


def agreements_line() -> str:
    return (
        f"Afspraken vastgelegd op {day(TODAY)}: regie bij Leerplicht Groningen; 3 afspraken "
        f"(GGD Groningen: JGZ-consult vóór {day(DUE)}; OBS De Regenboog: Aangepast rooster "
        f"vóór {day(DUE)}; ouders: Aanwezig bij een gesprek vóór {day(DUE)}); "
        f"evaluatie op {day(REVIEW)}"
    )


def test_the_operator_reads_every_process_before_the_timeline(world):
    partners, _ = world
    html = report(officer(partners, ex.OPERATOR))
    assert html.index("Processen rond dit kind") < html.index("Tijdlijn per dag")
    assert blocks(html) == {
        ESCALATION: [
            "Thuis sinds 01-11-2025; norm regio Thuiszitterspact 2.0 Groningen 91 dagen; "
            "geëscaleerd op 31-01-2026 naar SWV Groningen Stad",
            "Betrokken organisaties gemeld: OBS De Regenboog",
            "Beëindigd op 20-02-2026 (geplaatst op 20-02-2026, 111 dagen)",
        ],
        CONSULTATION: [
            f"Casusoverleg op {day(MEETING)}, bijeengeroepen door OBS De Regenboog, op grond "
            "van toestemming",
            f"GGD Groningen: uitgenodigd op {day(TODAY)}, aangenomen op {day(TODAY)}",
            f"WIJ Groningen: uitgenodigd op {day(TODAY)}, afgeslagen op {day(TODAY)} "
            "(reden: niet betrokken)",
            f"Leerplicht Groningen: uitgenodigd op {day(TODAY)}, aangenomen op {day(TODAY)}",
            agreements_line(),
        ],
        EXEMPTION: [
            f"Verzoek om advies aan GGD Groningen en SWV Groningen Stad op {day(TODAY)}, "
            "gevraagd door Leerplicht Groningen",
            f"Advies van GGD Groningen ontvangen op {day(TODAY)}: Onderwijs mogelijk met "
            "aanpassingen",
            f"Advies van SWV Groningen Stad ontvangen op {day(TODAY)}: Beschikbaar onder "
            "voorwaarden",
            f"Besluit op {day(TODAY)}: Geen vrijstelling",
        ],
    }
    told = disclosures(html)
    assert len(told) == 3 + 9, "the escalation's three, the consultation's 3 x 3"
    assert told[0] == (
        "SWV Groningen Stad kreeg te horen dat Leerplicht Groningen betrokken is "
        "(escalatie, 31-01-2026)"
    )
    assert (
        f"WIJ Groningen kreeg te horen dat GGD Groningen betrokken is (casusoverleg, {day(TODAY)})"
    ) in told
    assert "kenmerk" not in str(blocks(html)), "the operator holds no case reference"


def test_the_csv_adds_process_and_step_as_the_last_two_columns(world):
    partners, _ = world
    client = officer(partners, ex.OPERATOR)
    answer = download(client, report(client), "csv")
    rows = list(csv.reader(io.StringIO(answer.get_data().decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["Nr.", "Tijdstip (Nederlandse tijd)", "Tijdstip (UTC)", "Handeling"]
    assert rows[0][16:] == ["Proces", "Processtap"] and len(rows[0]) == 18
    steps = Counter((row[3], row[16], row[17]) for row in rows[1:] if row[16])
    sent, delivered = "bericht verstuurd", "bericht afgeleverd"
    assert steps[(sent, CONSULTATION, "Uitnodiging casusoverleg")] == 3
    assert steps[(delivered, CONSULTATION, "Uitnodiging casusoverleg")] == 3, (
        "each invitee fetched its invitation: the delivery belongs to the case by its exchange"
    )
    disclosed = "betrokkenheid van een organisatie bekendgemaakt"
    assert steps[(disclosed, CONSULTATION, disclosed)] == 9
    assert steps[(sent, CONSULTATION, "Afspraken casusoverleg")] == 2, "to the two who accepted"
    assert steps[(sent, EXEMPTION, "Adviesvraag vrijstelling")] == 2
    decided = "besluit over vrijstelling vastgelegd"
    assert steps[(decided, EXEMPTION, decided)] == 1
    assert steps[(sent, ESCALATION, "Escalatie thuiszitter")] == 2
    assert steps[("escalatie beëindigd", ESCALATION, "escalatie beëindigd")] == 1
    officers_own = [row for row in rows[1:] if row[3] == "inzagerapport gemaakt"]
    assert officers_own and all(row[16:] == ["", ""] for row in officers_own)


def test_the_pdf_tells_the_processes(world):
    partners, _ = world
    client = officer(partners, ex.OPERATOR)
    answer = download(client, report(client), "pdf")
    assert answer.status_code == 200
    document = pypdfium2.PdfDocument(answer.get_data())
    try:
        text = " ".join(page.get_textpage().get_text_bounded() for page in document)
    finally:
        document.close()
    text = re.sub(r"\s+", " ", text)
    assert "Processen rond dit kind" in text
    assert (f"Besluit op {day(TODAY)}: Geen vrijstelling") in text
    assert "Hele proces" not in text, "the link is the page's, not the document's"


def test_the_convener_reads_its_consultation_with_its_own_reference_only(world):
    partners, refs = world
    html = report(officer(partners, ex.SCHOOL))
    found = blocks(html)
    assert list(found) == [CONSULTATION], "not a participant of the exemption or escalation"
    assert found[CONSULTATION][0].endswith(
        f"op grond van toestemming (kenmerk {refs['consultation'][ex.SCHOOL]})"
    )
    assert found[CONSULTATION][1:] == [
        f"GGD Groningen: uitgenodigd op {day(TODAY)}, aangenomen op {day(TODAY)}",
        f"WIJ Groningen: uitgenodigd op {day(TODAY)}, afgeslagen op {day(TODAY)} "
        "(reden: niet betrokken)",
        f"Leerplicht Groningen: uitgenodigd op {day(TODAY)}, aangenomen op {day(TODAY)}",
        agreements_line(),
    ]
    assert len(disclosures(html)) == 9
    csv_text = download(officer(partners, ex.SCHOOL), html, "csv").get_data().decode("utf-8-sig")
    for other in (ex.GGD, ex.WIJ, ex.LEERPLICHT):
        assert refs["consultation"][other] not in html + csv_text
    for ref in refs["exemption"].values():
        assert ref not in html + csv_text
    assert "Hele proces" not in html, "the operator's link only"


def test_leerplicht_reads_the_exemption_it_asked_for_whole(world):
    partners, refs = world
    html = report(officer(partners, ex.LEERPLICHT))
    found = blocks(html)
    assert list(found) == [EXEMPTION], (
        "its consultation invitation and its escalation items carried its pseudonym "
        "(routes.yaml: OPEN-8 undecided), not the BSN it asks with"
    )
    assert found[EXEMPTION] == [
        f"Verzoek om advies aan GGD Groningen en SWV Groningen Stad op {day(TODAY)}, gevraagd "
        f"door Leerplicht Groningen (kenmerk {refs['exemption'][ex.LEERPLICHT]})",
        f"Advies van GGD Groningen ontvangen op {day(TODAY)}: Onderwijs mogelijk met aanpassingen",
        f"Advies van SWV Groningen Stad ontvangen op {day(TODAY)}: Beschikbaar onder voorwaarden",
        f"Besluit op {day(TODAY)}: Geen vrijstelling",
    ]
    assert refs["consultation"][ex.LEERPLICHT] not in html


def test_the_ggd_reads_only_its_own_advice_request(world):
    partners, refs = world
    html = report(officer(partners, ex.GGD))
    assert blocks(html) == {
        EXEMPTION: [
            f"Verzoek om advies aan GGD Groningen op {day(TODAY)}, gevraagd door Leerplicht "
            f"Groningen (kenmerk {refs['exemption'][ex.GGD]})",
            f"Advies van GGD Groningen ontvangen op {day(TODAY)}",
            "De adviesvraag is afgesloten.",
        ]
    }, "the consultation reached the GGD by pseudonym: not on a report by BSN"
    section = flat(
        re.search(r'<section class="inzage-processes".*?</section>', html, re.S).group(0)
    )
    for hidden in (
        "SWV Groningen Stad",
        "voorwaarden",
        "aanpassingen",
        "vrijstelling:",
        "Besluit",
        "Wie kreeg te horen",
    ):
        assert hidden not in section, hidden
    for hidden in (refs["exemption"][ex.SWV], refs["exemption"][ex.LEERPLICHT]):
        assert hidden not in html


@pytest.mark.parametrize("oin", [ex.SWV, ex.WIJ])
def test_an_organisation_that_never_had_the_bsn_sees_no_process(world, oin):
    partners, _ = world
    html = report(officer(partners, oin))
    assert "Processen rond dit kind" not in html
    assert "Beschikbaar onder voorwaarden" not in html and "kenmerk" not in flat(html)


def case_of(partners: AppPartners, seqs) -> set:
    with partners.services.db.session() as session:
        return set(
            session.scalars(select(AuditEventRow.case_id).where(AuditEventRow.seq.in_(list(seqs))))
        )


def test_the_operator_opens_a_whole_process_from_the_inzage_and_the_audit_log(world):
    partners, _ = world
    client = officer(partners, ex.OPERATOR)
    html = report(client)
    links = re.findall(r'<a href="(/ui/audit\?proces=[^"]+)">Hele proces in de auditlog</a>', html)
    assert len(links) == 3
    with partners.services.db.session() as session:
        escalation_events = set(
            session.scalars(
                select(AuditEventRow.seq).where(AuditEventRow.case_id == ESCALATION_CASE)
            )
        )
    assert len(escalation_events) == 7, "open, two sends, three disclosures, close"
    for link in links:
        page = client.get(link.replace("&amp;", "&"))
        assert page.status_code == 200
        body = page.get_data(as_text=True)
        assert "<h1>Eén proces</h1>" in body
        seqs = {int(n) for n in re.findall(r"<tr>\s*<td>(\d+)</td>", body)}
        assert len(case_of(partners, seqs)) == 1, "one case's events, nothing else"
        assert ex.BSN not in body
    # the escalation's page lists exactly its seven events
    pages = [client.get(link.replace("&amp;", "&")).get_data(as_text=True) for link in links]
    listed = [{int(n) for n in re.findall(r"<tr>\s*<td>(\d+)</td>", page)} for page in pages]
    assert escalation_events in listed
    # the audit log links each case event to its process, and its export keeps the filter
    audit = client.get("/ui/audit?action=case.agree").get_data(as_text=True)
    [from_log] = re.findall(r'<a href="(/ui/audit\?proces=[^"]+)">Hele proces</a>', audit)
    exported = client.get(
        "/ui/audit/export?format=jsonl&" + from_log.split("?")[1].replace("&amp;", "&")
    )
    assert exported.status_code == 200
    lines = [line for line in exported.get_data(as_text=True).splitlines() if line]
    seqs = {int(re.search(r'"seq":(\d+)', line).group(1)) for line in lines}
    [case_id] = case_of(partners, seqs)
    with partners.services.db.session() as session:
        assert session.get(PactCase, case_id).kind == "consultation"


def test_a_partner_never_gets_a_process_link_or_filter(world):
    partners, _ = world
    operator = officer(partners, ex.OPERATOR)
    [link] = re.findall(
        r'<a href="(/ui/audit\?proces=[^"]+)">Hele proces</a>',
        operator.get("/ui/audit?action=case.agree").get_data(as_text=True),
    )
    school = officer(partners, ex.SCHOOL)
    page = school.get("/ui/audit?action=case.agree")
    assert page.status_code == 200 and "Hele proces" not in page.get_data(as_text=True)
    refused = school.get(link.replace("&amp;", "&"))
    assert refused.status_code == 400
    assert "Alleen de beheerorganisatie kan een heel proces openen." in refused.get_data(
        as_text=True
    )
    assert school.get("/ui/audit/export?format=csv&" + link.split("?")[1]).status_code == 400
    # the operator's link is sealed for the operator's officer: another cannot open it either
    other_operator = officer(partners, ex.OPERATOR, "colleague")
    assert other_operator.get(link.replace("&amp;", "&")).status_code == 400


def test_the_audit_log_names_the_reasons_of_process_events(world):
    partners, _ = world
    client = officer(partners, ex.OPERATOR)

    def reasons(action: str) -> list[str]:
        page = client.get(f"/ui/audit?action={action}").get_data(as_text=True)
        body = re.search(r'<table class="events">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
        return [
            flat(row[-1])
            for row in (
                re.findall(r"<td>(.*?)</td>", tr, re.S)
                for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S)
            )
        ]

    assert reasons("case.decline") == ["niet betrokken"]
    assert reasons("exemption.decide") == ["Geen vrijstelling"]
    assert reasons("escalation.close") == ["kind geplaatst"]
