"""A demo organisation's API client: tokens from a signed client assertion, then JSON calls.

The demo talks to the sandbox exactly as a partner system would (``private_key_jwt`` with the
private JWK that ``gateway demo keys`` wrote), so whatever it leaves behind went through the
same checks, audit and pages as real traffic.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import requests
from joserfc import jwt
from joserfc.jwk import ECKey

TIMEOUT = 10
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class DemoError(Exception):
    """The sandbox did not answer as the demo expects; the message says which step."""


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
                    "client_assertion_type": ASSERTION_TYPE,
                    "client_assertion": assertion,
                },
                timeout=TIMEOUT,
            )
            if answer.status_code != 200:
                raise DemoError(
                    f"{self.client_id} got no token from {self.base_url}: "
                    f"{answer.status_code} {problem_code(answer)} (is this the sandbox that "
                    "bootstrapped these keys, and is GATEWAY_BASE_URL its address?)"
                )
            self._token = answer.json()["access_token"]
        return self._token

    def post(self, path: str, body: dict, **headers) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token()}", **headers}
        return requests.post(f"{self.base_url}{path}", json=body, headers=headers, timeout=TIMEOUT)

    def get(self, path: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token()}"}
        return requests.get(f"{self.base_url}{path}", headers=headers, timeout=TIMEOUT)

    def send(self, message_type: str, recipient: str, subject: dict, payload: dict):
        body = {
            "message_type": message_type,
            "recipient": recipient,
            "subject": subject,
            "payload": payload,
        }
        return self.post("/api/v1/exchanges", body, **{"Idempotency-Key": uuid.uuid4().hex})

    def take_from_inbox(self, exchange_ids: set[str]) -> list[dict]:
        """The inbox items with these ids, acknowledged once read, as a partner system does
        after processing them (so a second demo run finds its own items on the first page and
        the payloads do not linger)."""
        found, cursor = [], None
        while len(found) < len(exchange_ids):
            answer = self.get("/api/v1/inbox?limit=100" + (f"&cursor={cursor}" if cursor else ""))
            expect(answer, 200, f"{self.client_id} reading its inbox")
            page = answer.json()
            found += [item for item in page["items"] if item["id"] in exchange_ids]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        for item in found:
            expect(
                self.post(f"/api/v1/inbox/{item['id']}/ack", {}),
                200,
                f"{self.client_id} acknowledging an inbox item",
            )
        return found


def problem_code(answer: requests.Response) -> str:
    """The problem code of a refusal (``code`` in problem+json), or the reason phrase."""
    try:
        return str(answer.json().get("code") or answer.reason)
    except ValueError:
        return answer.reason or ""


def expect(answer: requests.Response, status: int, step: str) -> dict:
    """The JSON answer when ``status`` came back; otherwise a :class:`DemoError` for ``step``."""
    if answer.status_code != status:
        raise DemoError(f"{step}: {answer.status_code} {problem_code(answer)}")
    return answer.json()


def load_clients(base_url: str, keys_dir: Path, clients: dict[str, str]) -> dict[str, DemoClient]:
    """A client per organisation OIN, from ``<keys_dir>/<client_id>.private.jwk.json``."""
    loaded = {}
    for oin, client_id in clients.items():
        private = json.loads((keys_dir / f"{client_id}.private.jwk.json").read_text())
        loaded[oin] = DemoClient(base_url, client_id, ECKey.import_key(private))
    return loaded
