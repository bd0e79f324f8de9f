"""The pact's three processes in the demo sandbox (issue 20): one of each, so that the
dashboard's pact charts, the audit log and the inzage answer's "Processen rond dit kind" have
something to show on a fresh sandbox.

- **Casusoverleg**: the school records the parents' consent for ``case_consultation`` and
  invites the GGD (by OIN), the leerplicht office (by municipality) and the SWV (by region)
  and the WIJ; three accept, the WIJ declines; the school records the agreements.
- **Advies vrijstelling**: the leerplicht office asks the GGD and the SWV for advice on a
  request for exemption (Leerplichtwet art. 5 onder a); both answer; it decides: no exemption.
- **Escalatie**: the leerplicht office reports the child at home for longer than the
  Groningen norm (91 days); the daily ``gateway pact run`` escalates to the SWV holding
  doorzettingsmacht; then the office reports the placement, which closes the escalation.

Everything goes through the API as partners send it, with their own tokens; only the daily
run is the operator's own command (``run_pact``), as in production.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from .client import DemoClient, DemoError, expect

NOT_EXEMPTED = "not_exempted"


@dataclass
class PactOutcome:
    consultations: int = 0
    exemption_cases: int = 0
    escalations_fired: int = 0
    escalations_closed: int = 0

    def summary(self) -> str:
        return (
            f"pact: {self.consultations} consultation(s), {self.exemption_cases} exemption "
            f"advice case(s), {self.escalations_fired} escalation(s) fired and "
            f"{self.escalations_closed} closed"
        )


@dataclass(frozen=True)
class Partners:
    school: DemoClient
    ggd: DemoClient
    wij: DemoClient
    leerplicht: DemoClient
    swv: DemoClient
    oins: dict[str, str]  # role -> OIN


def run_pact_processes(
    partners: Partners,
    child: dict,
    today: date,
    born: date,
    contact: dict,
    consent_body: Callable[..., dict],
    run_pact: Callable[[], dict[str, int]],
    echo: Callable[[str], None],
) -> PactOutcome:
    outcome = PactOutcome()
    _consultation(partners, child, today, born, contact, consent_body, outcome, echo)
    _exemption_advice(partners, child, today, born, outcome, echo)
    _escalation(partners, child, today, born, run_pact, outcome, echo)
    return outcome


def _invitation(client: DemoClient, exchange_id: str) -> dict:
    items = client.take_from_inbox({exchange_id})
    if not items:
        raise DemoError(f"{client.client_id} found no item {exchange_id} in its inbox")
    return items[0]


def _consultation(partners: Partners, child, today, born, contact, consent_body, outcome, echo):
    oins = partners.oins
    consent = consent_body(
        "case_consultation",
        [oins["school"], "ggd", "leerplicht", "swv", "wij"],
        today,
        born,
        "demo-toestemming-casusoverleg",
    )
    expect(partners.school.post("/api/v1/consents", consent), 201, "recording the consent")
    meeting = today + timedelta(days=7)
    body = {
        "kind": "consultation",
        "subject": dict(child),
        "invite": [
            oins["ggd"],
            {"type": "leerplicht", "municipality": "0014"},
            {"type": "swv", "region": "groningen", "education_sector": "po"},
            oins["wij"],
        ],
        "payload": {
            "meeting": {"date": meeting.isoformat(), "time": "14:30", "mode": "in_person"},
            "question": "prevent_dropout",
            "concern_categories": ["wellbeing", "family_situation"],
            "education_sector": "po",
            "school_brin": "12AB",
            "date_of_birth": born.isoformat(),
            "unauthorised_hours_4_weeks": 16,
            "sick_days_12_weeks": 9,
            "respond_by": (today + timedelta(days=5)).isoformat(),
            "contact": dict(contact),
        },
    }
    opened = _open(partners.school, body, "opening a consultation")
    by_oin = {p["oin"]: p for p in opened["participants"]}
    answers = (("ggd", "accept"), ("leerplicht", "accept"), ("swv", "accept"), ("wij", "decline"))
    for role, answer in answers:
        client = getattr(partners, role)
        ref = _invitation(client, by_oin[oins[role]]["exchange_id"])["payload"]["case_ref"]
        reply = {"reason": "not_involved"} if answer == "decline" else {}
        expect(client.post(f"/api/v1/cases/{ref}/{answer}", reply), 200, f"{role} {answer}")
    agreements = {
        "regie": oins["leerplicht"],
        "agreements": [
            {"party": oins["ggd"], "action": "jgz_consultation", "due_date": _on(today, 14)},
            {"party": "school", "action": "adjusted_timetable", "due_date": _on(today, 10)},
            {"party": "parents", "action": "attend_conversation", "due_date": _on(today, 10)},
        ],
        "next_review_date": _on(today, 42),
    }
    path = f"/api/v1/cases/{opened['case_ref']}/agreements"
    expect(partners.school.post(path, agreements), 201, "recording the agreements")
    outcome.consultations += 1
    echo("casusoverleg: 4 invited (3 accepted, WIJ declined), 3 agreements recorded")


def _exemption_advice(partners: Partners, child, today, born, outcome, echo):
    oins = partners.oins
    year = today.year if today.month >= 8 else today.year - 1
    body = {
        "kind": "exemption_advice",
        "subject": dict(child),
        "advisers": [
            oins["ggd"],
            {"type": "swv", "municipality": "0014", "education_sector": "po"},
        ],
        "payload": {
            "school_year": f"{year + 1}-{year + 2}",
            "requested_on": today.isoformat(),
            "education_sector": "po",
            "date_of_birth": born.isoformat(),
            "enrolment": "enrolled",
            "school_brin": "12AB",
            "statement_by": "physician",
            "respond_by": _on(today, 28),
            "contact": {
                "name": "L. Bakker, leerplichtambtenaar",
                "email": "leerplicht@groningen.example.nl",
            },
        },
    }
    opened = _open(partners.leerplicht, body, "opening an exemption advice case")
    by_oin = {p["oin"]: p for p in opened["participants"]}
    advice = {
        "ggd": (
            "exemption_medical_advice",
            {"advice": "fit_with_adjustments"},
            {"name": "Jeugdarts A. de Boer", "email": "jgz@ggd-groningen.example.nl"},
        ),
        "swv": (
            "exemption_education_advice",
            {
                "arrangement": "available_with_conditions",
                "options": ["education_care_arrangement", "adjusted_timetable"],
            },
            {"name": "M. Smit, orthopedagoog", "email": "loket@swv-groningen.example.nl"},
        ),
    }
    for role, (message_type, answer, contact) in advice.items():
        client = getattr(partners, role)
        request = _invitation(client, by_oin[oins[role]]["exchange_id"])
        payload = {"in_reply_to": request["id"], **answer, "contact": contact}
        sent = client.send(message_type, oins["leerplicht"], request["subject"], payload)
        expect(sent, 202, f"{role} answering the advice request")
    decision = {"decision": NOT_EXEMPTED, "decided_on": today.isoformat()}
    path = f"/api/v1/cases/{opened['case_ref']}/decision"
    expect(partners.leerplicht.post(path, decision), 200, "recording the decision")
    outcome.exemption_cases += 1
    echo("advies vrijstelling: GGD and SWV advised, decision recorded (geen vrijstelling)")


def _escalation(partners: Partners, child, today, born, run_pact, outcome, echo):
    """A child at home beyond the Groningen norm: the daily run escalates it to the SWV
    holding doorzettingsmacht; the placement report closes it."""
    oins = partners.oins
    since = today - timedelta(days=95)
    report = {
        "category": "absolute_absence",
        "since_date": since.isoformat(),
        "education_sector": "po",
        "date_of_birth": born.isoformat(),
        "perspective": "none",
    }
    sent = partners.leerplicht.send("homebound_report", oins["swv"], dict(child), report)
    expect(sent, 202, "reporting the child at home")
    fired = run_pact().get("escalations_opened", 0)
    outcome.escalations_fired += fired
    refs = [
        item["payload"]["case_ref"]
        for item in _all_inbox(partners.leerplicht)
        if item["message_type"] == "homebound_escalation"
    ]
    placed = dict(report, perspective="placed", placed_date=today.isoformat())
    sent = partners.leerplicht.send("homebound_report", oins["swv"], dict(child), placed)
    expect(sent, 202, "reporting the placement")
    for ref in refs:  # the reporter's own view of its escalations: closed by the placement
        case = expect(partners.leerplicht.get(f"/api/v1/cases/{ref}"), 200, "reading a case")
        outcome.escalations_closed += case["status"] == "closed"
    echo(
        f"escalatie: at home since {since.isoformat()} (norm 91 days): {fired} fired by the "
        f"daily run, {outcome.escalations_closed} closed by the placement"
    )


def _all_inbox(client: DemoClient) -> list[dict]:
    """Every waiting item of ``client`` (acknowledged once read), for generated messages whose
    ids the demo cannot know in advance."""
    items = []
    while True:
        page = expect(client.get("/api/v1/inbox?limit=100"), 200, "reading the inbox")
        if not page["items"]:
            return items
        items += client.take_from_inbox({item["id"] for item in page["items"]})


def _open(client: DemoClient, body: dict, step: str) -> dict:
    answer = client.post("/api/v1/cases", body, **{"Idempotency-Key": uuid.uuid4().hex})
    return expect(answer, 201, step)


def _on(today: date, days: int) -> str:
    return (today + timedelta(days=days)).isoformat()
