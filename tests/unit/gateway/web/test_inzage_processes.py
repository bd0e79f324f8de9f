"""The pact's processes in the inzage answer (docs/pact-workflows.md section 9), over plain
events and case files: what each reader is told of a case, by its role in it.

The stories: OBS De Regenboog convened a consultation (meeting 12-03-2027) with the GGD, WIJ
and Leerplicht; the GGD and Leerplicht accepted, WIJ declined (not involved); the school
recorded three agreements with Leerplicht as regiehouder and closed the case when done.
Leerplicht asked the GGD and the SWV for exemption advice; both answered; the decision was
"no exemption". The Lekstroom leerplicht's report escalated to the SWV VO (holder), which
learned of the reporter and of a school; a placement closed it. The sentences below are
written from the design's section 9, not read from the code.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from gateway.web.inzage import CSV_HEADERS, Context, build, csv_text
from gateway.web.trail import (
    CaseAgreement,
    CaseDisclosure,
    CaseEscalation,
    CaseFile,
    CaseFiles,
    CaseParty,
)

SCHOOL, GGD, WIJ, LEERPLICHT, SWV = (
    "00000001001234567000",
    "00000001003456789000",
    "00000001004567890000",
    "00000001005678901000",
    "00000001002345678000",
)
NIEUWEGEIN, SWV_VO, CALS, OPERATOR = (
    "00000001007000000001",
    "00000001007000000003",
    "00000001007000000002",
    "00000001006789012000",
)
CTX = Context(
    names={
        SCHOOL: "OBS De Regenboog",
        GGD: "GGD Groningen",
        WIJ: "WIJ Groningen",
        LEERPLICHT: "Leerplicht Groningen",
        SWV: "SWV Groningen Stad",
        NIEUWEGEIN: "Gemeente Nieuwegein Leerplicht",
        SWV_VO: "SWV VO Zuid Utrecht",
        CALS: "Cals College Nieuwegein",
        OPERATOR: "Gateway Beheer",
    },
    types={
        SCHOOL: "school",
        GGD: "ggd",
        WIJ: "wij",
        LEERPLICHT: "leerplicht",
        SWV: "swv",
        NIEUWEGEIN: "leerplicht",
        SWV_VO: "swv",
        CALS: "school",
        OPERATOR: "operator",
    },
)
REFS = {SCHOOL: "ref-school", GGD: "ref-ggd", WIJ: "ref-wij", LEERPLICHT: "ref-lp"}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def party(
    oin: str,
    role: str,
    status: str,
    joined: str,
    responded: str | None = None,
    reason: str | None = None,
    ref: str | None = None,
) -> CaseParty:
    return CaseParty(
        oin,
        role,
        status,
        ref or REFS.get(oin, f"ref-{oin[-6:]}"),
        utc(joined),
        utc(responded) if responded else None,
        reason,
    )


CONSULTATION_PARTIES = (
    party(SCHOOL, "convener", "convener", "2027-03-02T09:15:00"),
    party(GGD, "invitee", "accepted", "2027-03-02T09:15:00", "2027-03-03T08:00:00"),
    party(WIJ, "invitee", "declined", "2027-03-02T09:15:00", "2027-03-03T10:00:00", "not_involved"),
    party(LEERPLICHT, "invitee", "accepted", "2027-03-02T09:15:00", "2027-03-04T12:00:00"),
)
INVITEES = (GGD, WIJ, LEERPLICHT)


def consultation(reader: str | None) -> CaseFile:
    return CaseFile(
        id="case-1",
        kind="consultation",
        status="closed",
        parties=CONSULTATION_PARTIES,
        agreements=(
            CaseAgreement(
                1,
                GGD,
                "organisation",
                "jgz_consultation",
                date(2027, 3, 26),
                "done",
                utc("2027-03-25T10:00:00"),
            ),
            CaseAgreement(
                2, SCHOOL, "organisation", "adjusted_timetable", date(2027, 3, 19), "open"
            ),
            CaseAgreement(3, None, "parents", "attend_conversation", date(2027, 3, 19), "open"),
            CaseAgreement(4, None, "youth", "other", date(2027, 3, 19), "cancelled"),
        ),
        disclosures=tuple(
            CaseDisclosure(learner, learned, utc("2027-03-02T09:15:00"))
            for learner in INVITEES
            for learned in (SCHOOL, *INVITEES)
            if learner != learned
        ),
        reader=next((p for p in CONSULTATION_PARTIES if p.oin == reader), None),
        convener=SCHOOL,
        regie=LEERPLICHT,
        meeting_date=date(2027, 3, 12),
        next_review_date=date(2027, 4, 16),
        closed_at=utc("2027-04-20T08:00:00"),
        close_reason="completed",
    )


def event(
    seq: int,
    at: str,
    action: str,
    sender: str | None = None,
    recipient: str | None = None,
    message_type: str | None = None,
    **extra,
) -> dict:
    return {
        "seq": seq,
        "at": at,
        "action": action,
        "decision": "allowed",
        "actor": {"org": extra.pop("actor", sender)},
        "sender": sender,
        "recipient": recipient,
        "message_type": message_type,
        **extra,
    }


CONSULTATION_EVENTS = [
    event(10, "2027-03-02T09:15:00Z", "case.open", actor=SCHOOL),
    event(
        11,
        "2027-03-02T09:15:00Z",
        "exchange.send",
        SCHOOL,
        GGD,
        "case_invitation",
        exchange_id="x-ggd",
    ),
    event(
        12,
        "2027-03-02T09:15:00Z",
        "exchange.send",
        SCHOOL,
        WIJ,
        "case_invitation",
        exchange_id="x-wij",
    ),
    event(
        13,
        "2027-03-02T09:15:00Z",
        "exchange.send",
        SCHOOL,
        LEERPLICHT,
        "case_invitation",
        exchange_id="x-lp",
    ),
    event(20, "2027-03-12T15:00:00Z", "case.agree", actor=SCHOOL),
    event(
        21,
        "2027-03-12T15:00:00Z",
        "exchange.send",
        SCHOOL,
        GGD,
        "case_agreements",
        exchange_id="x-ggd-agr",
    ),
    event(
        30,
        "2027-03-19T04:00:00Z",
        "exchange.send",
        OPERATOR,
        SCHOOL,
        "case_reminder",
        exchange_id="x-rem-1",
    ),
    event(31, "2027-03-19T04:00:00Z", "case.remind", OPERATOR, SCHOOL, actor=OPERATOR),
    event(40, "2027-04-20T08:00:00Z", "case.close", actor=SCHOOL),
]
CASE_OF = {e["seq"]: "case-1" for e in CONSULTATION_EVENTS}


def report_for(reader: str | None, events=CONSULTATION_EVENTS, files=None):
    files = files or {"case-1": consultation(reader)}
    return build(
        events,
        CTX,
        cases=CaseFiles(
            files,
            {
                e["seq"]: e.get("case", "case-1")
                for e in events
                if e["seq"] in CASE_OF or e.get("case")
            },
        ),
    )


def test_the_operator_reads_the_whole_consultation():
    report = report_for(None)
    [process] = report.processes
    assert process.title == "Casusoverleg"
    assert list(process.lines) == [
        "Casusoverleg op 12-03-2027, bijeengeroepen door OBS De Regenboog, op grond van "
        "toestemming",
        "GGD Groningen: uitgenodigd op 02-03-2027, aangenomen op 03-03-2027",
        "WIJ Groningen: uitgenodigd op 02-03-2027, afgeslagen op 03-03-2027 "
        "(reden: niet betrokken)",
        "Leerplicht Groningen: uitgenodigd op 02-03-2027, aangenomen op 04-03-2027",
        "Afspraken vastgelegd op 12-03-2027: regie bij Leerplicht Groningen; 3 afspraken "
        "(GGD Groningen: JGZ-consult vóór 26-03-2027, gedaan op 25-03-2027; "
        "OBS De Regenboog: Aangepast rooster vóór 19-03-2027; "
        "ouders: Aanwezig bij een gesprek vóór 19-03-2027); evaluatie op 16-04-2027",
        "Herinneringen: OBS De Regenboog op 19-03-2027",
        "Gesloten op 20-04-2027 (afgerond)",
    ]
    assert "kenmerk" not in str(report.processes), "the operator holds no reference"
    assert len(report.disclosures) == 9
    assert (
        "WIJ Groningen kreeg te horen dat GGD Groningen betrokken is (casusoverleg, 02-03-2027)"
    ) in report.disclosures


def test_the_convener_reads_the_whole_case_with_its_own_reference_only():
    report = report_for(SCHOOL)
    lines = report.processes[0].lines
    assert lines[0].endswith("op grond van toestemming (kenmerk ref-school)")
    assert "(reden: niet betrokken)" in lines[2]
    assert len(report.disclosures) == 9, "it made them all: the actor of every event"
    for other in ("ref-ggd", "ref-wij", "ref-lp"):
        assert other not in str(report)


def test_an_accepted_invitee_reads_its_own_answer_and_the_agreements_not_the_others():
    report = report_for(GGD)
    assert list(report.processes[0].lines) == [
        "Casusoverleg op 12-03-2027, bijeengeroepen door OBS De Regenboog, op grond van "
        "toestemming (kenmerk ref-ggd)",
        "GGD Groningen: uitgenodigd op 02-03-2027, aangenomen op 03-03-2027",
        "Afspraken vastgelegd op 12-03-2027: regie bij Leerplicht Groningen; 3 afspraken "
        "(GGD Groningen: JGZ-consult vóór 26-03-2027, gedaan op 25-03-2027; "
        "OBS De Regenboog: Aangepast rooster vóór 19-03-2027; "
        "ouders: Aanwezig bij een gesprek vóór 19-03-2027); evaluatie op 16-04-2027",
        "Herinneringen: OBS De Regenboog op 19-03-2027",
        "Gesloten op 20-04-2027 (afgerond)",
    ]
    assert "niet betrokken" not in str(report), "another invitee's answer is the convener's"
    # the disclosures to or about the GGD: it learned of the school and the two other
    # invitees, and those two learned of it (the convener learns nothing: it chose them)
    assert len(report.disclosures) == 5
    assert all("GGD Groningen" in sentence for sentence in report.disclosures)
    assert "WIJ Groningen kreeg te horen dat Leerplicht Groningen" not in str(report.disclosures)
    for other in ("ref-school", "ref-wij", "ref-lp"):
        assert other not in str(report)


def test_a_declined_invitee_gets_no_agreements():
    lines = report_for(WIJ).processes[0].lines
    assert lines[1] == (
        "WIJ Groningen: uitgenodigd op 02-03-2027, afgeslagen op 03-03-2027 (reden: niet betrokken)"
    )
    assert not any(line.startswith("Afspraken") for line in lines)
    assert "regie" not in str(lines) and "JGZ-consult" not in str(lines)


def test_the_csv_names_process_and_step_in_two_last_columns():
    events = [
        *CONSULTATION_EVENTS,
        event(
            50,
            "2027-03-02T10:00:00Z",
            "exchange.deliver",
            SCHOOL,
            GGD,
            "case_invitation",
            exchange_id="x-ggd",
        ),
        event(
            60,
            "2027-03-05T10:00:00Z",
            "exchange.send",
            SCHOOL,
            LEERPLICHT,
            "absence_report",
            exchange_id="x-other",
        ),
    ]
    report = report_for(None, events)
    text = csv_text(report, CTX)
    rows = {row[0]: row for row in csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";")}
    assert rows["Nr."][-2:] == ["Proces", "Processtap"]
    assert rows["Nr."][:16] == list(CSV_HEADERS[:16]) and CSV_HEADERS[3] == "Handeling"
    assert rows["11"][-2:] == ["Casusoverleg", "Uitnodiging casusoverleg"]
    assert rows["50"][-2:] == ["Casusoverleg", "Uitnodiging casusoverleg"], (
        "the delivery of a case's message belongs to the case through its exchange"
    )
    assert rows["10"][-2:] == ["Casusoverleg", "casus geopend"]
    assert rows["40"][-2:] == ["Casusoverleg", "casus gesloten"]
    assert rows["60"][-2:] == ["", ""]
    assert len({len(row) for row in rows.values()}) == 1


def test_no_process_without_a_case_the_reader_may_see():
    # a partner that is not a participant: the index gave it no case file
    report = build(CONSULTATION_EVENTS, CTX, cases=CaseFiles({}, {}))
    assert report.processes == [] and report.disclosures == [] and report.steps == {}
    assert csv_text(report, CTX) == csv_text(build(CONSULTATION_EVENTS, CTX), CTX)


EXEMPTION_PARTIES = (
    party(LEERPLICHT, "convener", "convener", "2027-05-21T08:00:00"),
    party(GGD, "adviser", "answered", "2027-05-21T08:00:00", "2027-06-02T13:00:00"),
    party(SWV, "adviser", "answered", "2027-05-21T08:00:00", "2027-06-05T09:30:00", ref="ref-swv"),
)


def exemption(reader: str | None) -> CaseFile:
    return CaseFile(
        id="case-2",
        kind="exemption_advice",
        status="decided",
        parties=EXEMPTION_PARTIES,
        reader=next((p for p in EXEMPTION_PARTIES if p.oin == reader), None),
        convener=LEERPLICHT,
        advice_medical="fit_with_adjustments",
        advice_education="available_with_conditions",
        decision="not_exempted",
        decided_on=date(2027, 6, 20),
        closed_at=utc("2027-06-20T10:00:00"),
        close_reason="not_exempted",
    )


EXEMPTION_EVENTS = [
    event(
        70,
        "2027-05-21T08:00:00Z",
        "exchange.send",
        LEERPLICHT,
        GGD,
        "exemption_advice_request",
        case="case-2",
    ),
    event(71, "2027-06-20T10:00:00Z", "exemption.decide", actor=LEERPLICHT, case="case-2"),
]


def exemption_report(reader: str | None):
    return build(
        EXEMPTION_EVENTS,
        CTX,
        cases=CaseFiles({"case-2": exemption(reader)}, {70: "case-2", 71: "case-2"}),
    )


def test_leerplicht_reads_both_advice_outcomes_and_its_decision():
    [process] = exemption_report(LEERPLICHT).processes
    assert process.title == "Advies vrijstelling (art. 5 onder a Leerplichtwet)"
    assert list(process.lines) == [
        "Verzoek om advies aan GGD Groningen en SWV Groningen Stad op 21-05-2027, gevraagd "
        "door Leerplicht Groningen (kenmerk ref-lp)",
        "Advies van GGD Groningen ontvangen op 02-06-2027: Onderwijs mogelijk met aanpassingen",
        "Advies van SWV Groningen Stad ontvangen op 05-06-2027: Beschikbaar onder voorwaarden",
        "Besluit op 20-06-2027: Geen vrijstelling",
    ]
    assert exemption_report(None).processes[0].lines[1:] == process.lines[1:]


def test_an_adviser_never_reads_the_other_adviser_an_outcome_or_the_decision():
    for adviser, name, ref in (
        (SWV, "SWV Groningen Stad", "ref-swv"),
        (GGD, "GGD Groningen", "ref-ggd"),
    ):
        [process] = exemption_report(adviser).processes
        text = str(process)
        assert process.lines[0] == (
            f"Verzoek om advies aan {name} op 21-05-2027, gevraagd "
            f"door Leerplicht Groningen (kenmerk {ref})"
        )
        assert process.lines[-1] == "De adviesvraag is afgesloten."
        for hidden in ("aanpassingen", "voorwaarden", "Geen vrijstelling", "Besluit", "ref-lp"):
            assert hidden not in text, (adviser, hidden)
        other = "GGD Groningen" if adviser == SWV else "SWV Groningen Stad"
        assert other not in text


ESCALATION_PARTIES = (
    party(SWV_VO, "holder", "notified", "2027-02-22T04:00:05", ref="ref-holder"),
    party(NIEUWEGEIN, "reporter", "notified", "2027-02-22T04:00:05", ref="ref-reporter"),
)


def escalation(reader: str | None) -> CaseFile:
    at = utc("2027-02-22T04:00:05")
    return CaseFile(
        id="case-3",
        kind="escalation",
        status="closed",
        parties=ESCALATION_PARTIES,
        escalation=CaseEscalation(
            "Lekstroom",
            42,
            date(2027, 1, 11),
            date(2027, 2, 22),
            "long_relative_absence",
            SWV_VO,
            NIEUWEGEIN,
            placed_date=date(2027, 3, 1),
            closed_on=date(2027, 3, 1),
        ),
        disclosures=(
            CaseDisclosure(SWV_VO, NIEUWEGEIN, at),
            CaseDisclosure(SWV_VO, CALS, at),
            CaseDisclosure(NIEUWEGEIN, SWV_VO, at),
        ),
        reader=next((p for p in ESCALATION_PARTIES if p.oin == reader), None),
        closed_at=utc("2027-03-01T10:12:00"),
        close_reason="placed",
    )


def escalation_report(reader: str | None):
    events = [event(80, "2027-02-22T04:00:05Z", "escalation.open", actor=OPERATOR)]
    return build(events, CTX, cases=CaseFiles({"case-3": escalation(reader)}, {80: "case-3"}))


def test_the_holder_reads_the_escalation_with_the_involved_organisations():
    report = escalation_report(SWV_VO)
    [process] = report.processes
    assert process.title == "Escalatie (doorzettingsmacht)"
    assert list(process.lines) == [
        "Thuis sinds 11-01-2027; norm regio Lekstroom 42 dagen; geëscaleerd op 22-02-2027 "
        "naar SWV VO Zuid Utrecht (kenmerk ref-holder)",
        "Betrokken organisaties gemeld: Cals College Nieuwegein",
        "Beëindigd op 01-03-2027 (geplaatst op 01-03-2027, 49 dagen)",
    ]
    assert report.disclosures == [
        "SWV VO Zuid Utrecht kreeg te horen dat Gemeente Nieuwegein Leerplicht betrokken is "
        "(escalatie, 22-02-2027)",
        "SWV VO Zuid Utrecht kreeg te horen dat Cals College Nieuwegein betrokken is "
        "(escalatie, 22-02-2027)",
        "Gemeente Nieuwegein Leerplicht kreeg te horen dat SWV VO Zuid Utrecht betrokken is "
        "(escalatie, 22-02-2027)",
    ]


def test_the_reporter_is_not_told_the_involved_list():
    report = escalation_report(NIEUWEGEIN)
    assert list(report.processes[0].lines) == [
        "Thuis sinds 11-01-2027; norm regio Lekstroom 42 dagen; geëscaleerd op 22-02-2027 "
        "naar SWV VO Zuid Utrecht (kenmerk ref-reporter)",
        "Beëindigd op 01-03-2027 (geplaatst op 01-03-2027, 49 dagen)",
    ]
    assert "Cals College" not in str(report.processes) + str(report.disclosures)
    assert "ref-holder" not in str(report)


def test_a_process_event_names_its_reason_from_the_process_not_as_a_refusal():
    from gateway.web.inzage import reason_name, reason_text

    declined = event(1, "2027-03-03T10:00:00Z", "case.decline", actor=WIJ, reason="not_involved")
    decided = event(
        2, "2027-06-20T10:00:00Z", "exemption.decide", actor=LEERPLICHT, reason="not_exempted"
    )
    closed = event(3, "2027-03-01T10:12:00Z", "escalation.close", actor=OPERATOR, reason="placed")
    refused = {
        **event(4, "2027-03-03T10:00:00Z", "case.accept", actor=WIJ),
        "decision": "denied",
        "reason": "case_already_answered",
    }
    assert [reason_name(e) for e in (declined, decided, closed)] == [
        "niet betrokken",
        "Geen vrijstelling",
        "kind geplaatst",
    ]
    assert reason_text(declined) == "niet betrokken"
    assert reason_name(refused) == "Uitnodiging al beantwoord"
    assert reason_text(refused) == "Je organisatie heeft deze uitnodiging al anders beantwoord."
    assert reason_name(event(5, "2027-03-03T10:00:00Z", "case.open")) == ""


def test_an_invitee_that_did_not_see_the_recording_is_told_the_day_of_its_own_copy():
    # the GGD's events: its invitation and, a day after the meeting, its copy of the agreements
    events = [
        event(11, "2027-03-02T09:15:00Z", "exchange.send", SCHOOL, GGD, "case_invitation"),
        event(21, "2027-03-13T08:00:00Z", "exchange.send", SCHOOL, GGD, "case_agreements"),
    ]
    report = build(
        events, CTX, cases=CaseFiles({"case-1": consultation(GGD)}, {11: "case-1", 21: "case-1"})
    )
    assert report.processes[0].lines[2].startswith("Afspraken vastgelegd op 13-03-2027: ")
    assert not any(line.startswith("Herinneringen") for line in report.processes[0].lines)
