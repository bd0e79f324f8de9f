"""``gateway demo traffic``: sample traffic between the demo organisations of the sandbox.

Uses the demo clients' private keys from ``instance/demo`` (made by ``gateway demo keys``) to
get real tokens with signed client assertions and then acts as the partners would, so that
every web page of a fresh sandbox has something to show:

- the school records the parents' consents (support with WIJ, MAZL with the GGD);
- one message on each demo route, the MAZL referral to the GGD included; each recipient reads
  and acknowledges what it received;
- the GGD asks to re-identify the pseudonym it received (it may: scope
  ``reidentify:request``), and nobody decides, so the privacy officer finds one request
  waiting;
- the parents withdraw the MAZL consent, and the school's next referral is refused
  (``consent_withdrawn``), so the dashboard shows a refusal and the consents page a
  withdrawn consent;
- one of each of the pact's processes (:mod:`gateway.demo.pact`): a consultation, an
  exemption advice and an escalation fired by the daily run and closed by a placement.

Run it again and it adds the same traffic once more (new consents supersede the school's
earlier ones; another request waits); it never depends on what an earlier run left.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ..clock import local_date
from .client import DemoClient, DemoError, expect, load_clients, problem_code
from .pact import PactOutcome, Partners, run_pact_processes

SCHOOL, SWV, GGD = "00000001001234567000", "00000001002345678000", "00000001003456789000"
WIJ, LEERPLICHT = "00000001004567890000", "00000001005678901000"
CLIENTS = {
    SCHOOL: "regenboog-sis",
    SWV: "swv-groningen",
    GGD: "ggd-jgz",
    WIJ: "wij-cases",
    LEERPLICHT: "leerplicht-groningen",
}
DEMO_BSN = "111222333"  # a test number passing the elfproef, not a real person's
CHILD = {"bsn": DEMO_BSN}
CONTACT = {"name": "Mentor J. de Vries", "email": "mentor@regenboog.example.nl"}
# what the GGD gives as its reason; the page shows it to the privacy officer, in Dutch
REIDENTIFICATION = {
    "reason": (
        "De jeugdarts wil de verwijzing van de school koppelen aan het bestaande "
        "JGZ-dossier van dit kind; daarvoor is het BSN nodig."
    ),
    "legal_basis": "Wet publieke gezondheid, artikel 5 en 5a (jeugdgezondheidszorg)",
}


@dataclass
class Outcome:
    """What one run left in the sandbox, for the command's last line."""

    accepted: int = 0
    refused: int = 0
    pending_reidentifications: int = 0
    withdrawn_consents: int = 0
    exchanges: dict[str, set[str]] = field(default_factory=dict)  # recipient OIN -> ids
    pact: PactOutcome | None = None

    def summary(self) -> str:
        lines = [
            f"{self.accepted} exchange(s) accepted, {self.refused} refused; "
            f"{self.pending_reidentifications} re-identification request(s) pending; "
            f"{self.withdrawn_consents} consent(s) withdrawn"
        ]
        if self.pact is not None:
            lines.append(self.pact.summary())
        return "\n".join(lines)


def _consent(purpose: str, parties: list[str], today: date, born: date, ref: str) -> dict:
    """A parent's written consent the school records, valid for one year from today."""
    return {
        "subject": dict(CHILD),
        "date_of_birth": born.isoformat(),
        "purpose": purpose,
        "parties": parties,
        "granted_by": [{"role": "parent"}],
        "valid_from": today.isoformat(),
        "valid_until": (today + timedelta(days=365)).isoformat(),
        "evidence": {"method": "written", "reference": ref},
    }


def _absence_report(today: date, born: date) -> dict:
    return {
        "absence_type": "relative",
        "start_date": (today - timedelta(days=20)).isoformat(),
        "unauthorised_hours_4_weeks": 36,
        "reason_category": "unauthorised",
        "education_sector": "po",
        "school_brin": "12AB",
        "date_of_birth": born.isoformat(),
        "contact": dict(CONTACT),
    }


def _referral(born: date) -> dict:
    return {
        "sick_days_12_weeks": 14,
        "sick_reports_12_weeks": 6,
        "education_sector": "po",
        "date_of_birth": born.isoformat(),
        "concern": "Vaak ziek gemeld op maandag; ouders maken zich ook zorgen.",
        "contact": dict(CONTACT),
    }


def _sends(clients: dict[str, DemoClient], today: date, born: date) -> list[tuple]:
    """One message on each demo route: (sender, message type, recipient OIN, payload)."""
    school = clients[SCHOOL]
    support_request = {
        "concern_categories": ["family_situation"],
        "urgency": "normal",
        "education_sector": "po",
        "date_of_birth": born.isoformat(),
        "contact": dict(CONTACT),
    }
    homebound_report = {
        "category": "long_relative_absence",
        "since_date": (today - timedelta(days=35)).isoformat(),
        "education_sector": "po",
        "date_of_birth": born.isoformat(),
        "perspective": "in_progress",
    }
    return [
        (school, "absence_report", LEERPLICHT, _absence_report(today, born)),
        (school, "absence_report", SWV, _absence_report(today, born)),
        (school, "support_request", WIJ, support_request),
        (school, "sickness_absence_referral", GGD, _referral(born)),
        (clients[LEERPLICHT], "homebound_report", SWV, homebound_report),
    ]


def _record(school: DemoClient, body: dict, echo) -> dict:
    consent = expect(school.post("/api/v1/consents", body), 201, "recording a consent")
    parties = " + ".join(body["parties"])
    echo(f"consent recorded ({body['purpose']}: {parties}): {consent['status']}")
    return consent


def _send_all(clients, today, born, outcome: Outcome, echo) -> None:
    for sender, message_type, recipient, payload in _sends(clients, today, born):
        answer = sender.send(message_type, recipient, dict(CHILD), payload)
        sent = f"{sender.client_id} -> {CLIENTS[recipient]} {message_type}"
        accepted = expect(answer, 202, sent)
        outcome.accepted += 1
        outcome.exchanges.setdefault(recipient, set()).add(accepted["id"])
        echo(f"{sent}: accepted")


def _read_inboxes(clients, outcome: Outcome, echo) -> dict[str, list[dict]]:
    received = {}
    for oin, ids in outcome.exchanges.items():
        received[oin] = clients[oin].take_from_inbox(ids)
        for item in received[oin]:
            echo(
                f"inbox {CLIENTS[oin]}: {item['message_type']} subject={item['subject']} "
                f"fields={sorted(item['payload'])}"
            )
    return received


def _request_reidentification(ggd: DemoClient, items: list[dict], outcome, echo) -> None:
    """The GGD asks for the BSN behind the pseudonym its referral came with."""
    referral = next((i for i in items if i["message_type"] == "sickness_absence_referral"), None)
    if referral is None:
        raise DemoError("the GGD's inbox holds no sickness_absence_referral of this run")
    body = {"pseudonym": referral["subject"]["pseudonym"], **REIDENTIFICATION}
    answer = expect(
        ggd.post("/api/v1/reidentifications", body), 202, "ggd-jgz requesting re-identification"
    )
    outcome.pending_reidentifications += answer["status"] == "pending"
    echo(f"re-identification requested by ggd-jgz: {answer['status']} (to decide at /ui/)")


def _withdraw_and_try_again(school: DemoClient, consent: dict, born, outcome, echo) -> None:
    """The parents withdraw the MAZL consent; the school's next referral is then refused."""
    body = {
        "withdrawn_by": {"role": "parent"},
        "reason": "De ouders willen de JGZ voorlopig niet verder betrekken.",
    }
    withdrawn = expect(
        school.post(f"/api/v1/consents/{consent['id']}/withdraw", body), 200, "withdrawing"
    )
    outcome.withdrawn_consents += withdrawn["status"] == "withdrawn"
    echo(f"consent withdrawn by the parent (mazl): {withdrawn['status']}")
    answer = school.send("sickness_absence_referral", GGD, dict(CHILD), _referral(born))
    if answer.status_code == 202:
        raise DemoError("a referral after the consent was withdrawn was accepted")
    outcome.refused += 1
    echo(
        f"regenboog-sis -> ggd-jgz sickness_absence_referral after the withdrawal: "
        f"refused ({answer.status_code} {problem_code(answer)})"
    )


def run_demo(
    base_url: str,
    keys_dir: Path,
    echo: Callable[[str], None],
    timezone: str = "Europe/Amsterdam",
    run_pact: Callable[[], dict[str, int]] | None = None,
) -> Outcome:
    """Send the sample traffic; what it left. Raises :class:`DemoError` naming the step that
    the sandbox did not answer as expected. ``run_pact`` is the operator's daily
    ``gateway pact run`` (counts by name); without it the pact's processes are left out."""
    today = local_date(datetime.now(UTC), timezone)  # the contract's today (API.md section 1)
    born = date(today.year - 10, today.month, 1) - timedelta(days=40)  # ten years old
    clients = load_clients(base_url, keys_dir, CLIENTS)
    school = clients[SCHOOL]
    outcome = Outcome()
    _record(school, _consent("support", ["school", "wij"], today, born, "demo-toestemming-1"), echo)
    mazl = _record(
        school, _consent("mazl", ["school", "ggd"], today, born, "demo-toestemming-2"), echo
    )
    _send_all(clients, today, born, outcome, echo)
    received = _read_inboxes(clients, outcome, echo)
    _request_reidentification(clients[GGD], received.get(GGD, []), outcome, echo)
    _withdraw_and_try_again(school, mazl, born, outcome, echo)
    if run_pact is not None:
        partners = Partners(
            school=school,
            ggd=clients[GGD],
            wij=clients[WIJ],
            leerplicht=clients[LEERPLICHT],
            swv=clients[SWV],
            oins={"school": SCHOOL, "ggd": GGD, "wij": WIJ, "leerplicht": LEERPLICHT, "swv": SWV},
        )
        outcome.pact = run_pact_processes(
            partners, CHILD, today, born, CONTACT, _consent, run_pact, echo
        )
    return outcome
