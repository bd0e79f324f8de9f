"""Partner organisations with real keys, registered on a live server through the real CLI."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field

import requests
from joserfc import jwt
from joserfc.jwk import ECKey

from tests import exchange_helpers as ex

ALL_SCOPES = [
    "exchange:send", "exchange:receive", "consent:write", "consent:read", "signal:write",
    "reidentify:request", "audit:read", "monitoring:read",
]


@dataclass
class Partner:
    oin: str
    type: str
    client_id: str
    key: ECKey
    base_url: str
    _tokens: dict = field(default_factory=dict)

    def assertion(self, audience: str | None = None) -> str:
        now = int(time.time())
        claims = {
            "iss": self.client_id, "sub": self.client_id, "jti": uuid.uuid4().hex,
            "aud": audience or f"{self.base_url}/oauth/token", "iat": now, "exp": now + 120,
        }
        return jwt.encode({"alg": "ES256", "kid": self.key.kid}, claims, self.key)

    def token(self, scope: str | None = None) -> str:
        if scope not in self._tokens:
            form = {
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": self.assertion(),
            }
            if scope:
                form["scope"] = scope
            response = requests.post(f"{self.base_url}/oauth/token", data=form, timeout=10)
            assert response.status_code == 200, response.text
            self._tokens[scope] = response.json()["access_token"]
        return self._tokens[scope]

    def headers(self, scope: str | None = None, **extra) -> dict:
        return {"Authorization": f"Bearer {self.token(scope)}", **extra}

    def send(self, message_type, recipient, payload, subject=None, key=None, **kwargs):
        body = {
            "message_type": message_type,
            "recipient": recipient,
            "subject": subject or {"bsn": ex.BSN},
            "payload": payload,
        }
        headers = self.headers(**{"Idempotency-Key": key or uuid.uuid4().hex})
        headers.update(kwargs.pop("headers", {}))
        return requests.post(f"{self.base_url}/api/v1/exchanges", json=body, headers=headers,
                             timeout=10, **kwargs)

    def inbox(self, **params):
        response = requests.get(f"{self.base_url}/api/v1/inbox", headers=self.headers(),
                                params=params, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def drain(self) -> list[dict]:
        """Every inbox item, acknowledged so that the next test starts empty."""
        items = self.inbox(limit=500)["items"]
        for item in items:
            response = requests.post(f"{self.base_url}/api/v1/inbox/{item['id']}/ack",
                                     headers=self.headers(), timeout=10)
            assert response.status_code == 200, response.text
        return items


def register_partners(server, tmp_path, regions: bool = False) -> dict[str, Partner]:
    """Register the e2e organisations through ``gateway bootstrap``. With ``regions`` also the
    regional world of issue 20 (``ex.REGION_ORGANISATIONS``, the ``serves`` of ``ex.SERVES``
    and the regions groningen and lekstroom), for role addresses and the escalation."""
    partners, organisations = {}, []
    listed = [*ex.ORGANISATIONS, *ex.REGION_ORGANISATIONS] if regions else ex.ORGANISATIONS
    for oin, name, type_ in listed:
        client_id = f"e2e-{type_}-{oin[-3:]}"
        key = ECKey.generate_key("P-256", parameters={"kid": f"{client_id}-1", "alg": "ES256"})
        partners[oin] = Partner(oin, type_, client_id, key, server.url)
        scopes = ["reidentify:approve", "audit:read", "monitoring:read"] if type_ == "operator" \
            else ALL_SCOPES
        organisations.append({
            "oin": oin, "name": name, "type": type_,
            "clients": [{"client_id": client_id, "auth": "private_key_jwt",
                         "jwks": {"keys": [key.as_dict(private=False)]}, "scopes": scopes}],
        })
        if regions and oin in ex.SERVES:
            organisations[-1]["serves"] = ex.SERVES[oin]
    document = {"organisations": organisations}
    if regions:
        document["regions"] = ex.REGIONS
    path = tmp_path / "partners.yaml"
    path.write_text(json.dumps(document))
    server.cli("bootstrap", str(path))
    return partners
