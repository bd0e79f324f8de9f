"""The demo organisations on one Flask app, each with a client and a real token: the shared
set-up of the functional tests of the exchange and monitoring areas.

Every request goes through the whole application (token, scope, limits, problems), only
without a socket: the e2e tests cover the same areas over HTTP against gunicorn.
"""

from __future__ import annotations

import uuid

from gateway import create_app
from gateway.config import Settings
from gateway.registry.service import ClientCredentials, OrganisationRegistry
from gateway.services import services_of
from tests import exchange_helpers as ex
from tests.limits import FLOOD_LIMIT
from tests.oauth_helpers import client_assertion, make_client_key, token_form

PARTNER_SCOPES = [
    "exchange:send", "exchange:receive", "consent:write", "consent:read", "monitoring:read",
]
OPERATOR_SCOPES = ["audit:read", "monitoring:read"]


class AppPartners:
    def __init__(self, database_url: str, keys_dir) -> None:
        self.settings = Settings(
            database_url=database_url, keys_dir=keys_dir,
            rate_limit_client=FLOOD_LIMIT, rate_limit_organisation=FLOOD_LIMIT,
        )
        self.app = create_app(self.settings)
        self.app.config["TESTING"] = True
        self.services = services_of(self.app)
        registry = OrganisationRegistry(self.services.db, production=False)
        self.keys, self.tokens = {}, {}
        for oin, name, type_ in ex.ORGANISATIONS:
            registry.add_organisation(oin, name, type_)
            self.keys[oin] = make_client_key()
            scopes = OPERATOR_SCOPES if type_ == "operator" else PARTNER_SCOPES
            credentials = ClientCredentials("private_key_jwt", jwks=self.keys[oin].jwks())
            registry.add_client(oin, f"client-{oin}", credentials, scopes)
        self.client = self.app.test_client()

    def token(self, oin: str) -> str:
        if oin not in self.tokens:
            assertion = client_assertion(
                self.keys[oin], f"client-{oin}", f"{self.settings.issuer}/oauth/token"
            )
            response = self.client.post("/oauth/token", data=token_form(assertion, None))
            assert response.status_code == 200, response.json
            self.tokens[oin] = response.json["access_token"]
        return self.tokens[oin]

    def headers(self, oin: str, **extra) -> dict:
        return {"Authorization": f"Bearer {self.token(oin)}", **extra}

    def send(self, sender, message_type, recipient, payload, subject=None, key=None):
        body = {"message_type": message_type, "recipient": recipient,
                "subject": subject or {"bsn": ex.BSN}, "payload": payload}
        return self.client.post(
            "/api/v1/exchanges", json=body,
            headers=self.headers(sender, **{"Idempotency-Key": key or uuid.uuid4().hex}),
        )

    def get(self, oin, path, **params):
        return self.client.get(path, query_string=params, headers=self.headers(oin))

    def post(self, oin, path, body=None):
        return self.client.post(path, json=body, headers=self.headers(oin))
