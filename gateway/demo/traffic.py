"""``gateway demo traffic``: sample exchanges between the demo organisations of the sandbox.

Uses the demo clients' private keys from ``instance/demo`` (made by ``gateway demo keys``) to
get real tokens with signed client assertions, records a consent, sends one message on each
route and prints what each recipient's inbox holds, so a newcomer sees the product work.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import requests
from joserfc import jwt
from joserfc.jwk import ECKey

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
TIMEOUT = 10


class DemoClient:
    def __init__(self, base_url: str, client_id: str, key: ECKey) -> None:
        self.base_url, self.client_id, self.key = base_url, client_id, key
        self._token: str | None = None

    def token(self) -> str:
        if self._token is None:
            now = int(time.time())
            claims = {
                "iss": self.client_id,
                "sub": self.client_id,
                "aud": f"{self.base_url}/oauth/token",
                "jti": uuid.uuid4().hex,
                "iat": now,
                "exp": now + 120,
            }
            assertion = jwt.encode({"alg": "ES256", "kid": self.key.kid}, claims, self.key)
            answer = requests.post(
                f"{self.base_url}/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_assertion_type": (
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
                    ),
                    "client_assertion": assertion,
                },
                timeout=TIMEOUT,
            )
            answer.raise_for_status()
            self._token = answer.json()["access_token"]
        return self._token

    def post(self, path: str, body: dict, **headers) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token()}", **headers}
        return requests.post(f"{self.base_url}{path}", json=body, headers=headers, timeout=TIMEOUT)

    def get(self, path: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token()}"}
        return requests.get(f"{self.base_url}{path}", headers=headers, timeout=TIMEOUT)

    def send(self, message_type: str, recipient: str, payload: dict) -> requests.Response:
        body = {
            "message_type": message_type,
            "recipient": recipient,
            "subject": {"bsn": DEMO_BSN},
            "payload": payload,
        }
        return self.post("/api/v1/exchanges", body, **{"Idempotency-Key": uuid.uuid4().hex})


def load_clients(base_url: str, keys_dir: Path) -> dict[str, DemoClient]:
    clients = {}
    for oin, client_id in CLIENTS.items():
        private = json.loads((keys_dir / f"{client_id}.private.jwk.json").read_text())
        clients[oin] = DemoClient(base_url, client_id, ECKey.import_key(private))
    return clients


CONTACT = {"name": "Mentor J. de Vries", "email": "mentor@regenboog.example.nl"}


def _consent(today: date, born: date) -> dict:
    """The parent's consent the school records first: support, school and wij, one year."""
    return {
        "subject": {"bsn": DEMO_BSN},
        "date_of_birth": born.isoformat(),
        "purpose": "support",
        "parties": ["school", "wij"],
        "granted_by": [{"role": "parent"}],
        "valid_from": today.isoformat(),
        "valid_until": (today + timedelta(days=365)).isoformat(),
        "evidence": {"method": "written", "reference": "demo-toestemming-1"},
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
        (clients[LEERPLICHT], "homebound_report", SWV, homebound_report),
    ]


def run_demo(base_url: str, keys_dir: Path, echo: Callable[[str], None]) -> int:
    """Send the sample traffic; return how many exchanges were accepted."""
    today = date.today()
    born = today.replace(year=today.year - 10) - timedelta(days=40)
    clients = load_clients(base_url, keys_dir)
    consent = clients[SCHOOL].post("/api/v1/consents", _consent(today, born))
    echo(f"consent recorded: {consent.status_code} {consent.json().get('status')}")
    accepted = 0
    for sender, message_type, recipient, payload in _sends(clients, today, born):
        answer = sender.send(message_type, recipient, payload)
        accepted += answer.status_code == 202
        echo(f"{sender.client_id} -> {recipient} {message_type}: {answer.status_code}")
    for oin in (LEERPLICHT, SWV, WIJ):
        items = clients[oin].get("/api/v1/inbox").json().get("items", [])
        for item in items:
            echo(
                f"inbox {CLIENTS[oin]}: {item['message_type']} subject={item['subject']} "
                f"fields={sorted(item['payload'])}"
            )
    return accepted
