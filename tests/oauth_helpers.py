"""Shared helpers of the OAuth tests: client keys, client assertions, forged tokens, bootstrap.

Everything here makes real cryptographic objects (keys, signatures, certificates); nothing
mocks a check. Forging helpers build compact JWS by hand so that a test can produce exactly
the malformed or hostile token it means (``alg: none``, HMAC with a public key, injected
headers) without a library refusing to make it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import textwrap
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import requests
from cryptography.hazmat.primitives import serialization
from joserfc.jwk import ECKey, JWKRegistry, OKPKey, RSAKey
from joserfc.jws import JWSRegistry
from prometheus_client import REGISTRY

from certs import create_development_ca, issue_organisation_certificate, sha256_thumbprint_hex
from gateway import create_app
from gateway.config import Settings
from gateway.registry.service import ClientCredentials, OrganisationRegistry
from gateway.storage.database import Database
from tests.limits import FLOOD_LIMIT

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

_GENERATORS = {
    "ES256": lambda kid: ECKey.generate_key("P-256", parameters={"kid": kid}),
    "RS256": lambda kid: RSAKey.generate_key(2048, parameters={"kid": kid}),
    "PS256": lambda kid: RSAKey.generate_key(2048, parameters={"kid": kid}),
    "EdDSA": lambda kid: OKPKey.generate_key("Ed25519", parameters={"kid": kid}),
}


@dataclass(frozen=True)
class ClientKey:
    """A client's private key with the algorithm it signs assertions with."""

    alg: str
    key: object

    @property
    def kid(self) -> str:
        return self.key.kid

    def public(self) -> dict:
        return self.key.as_dict(private=False)

    def jwks(self) -> dict:
        return {"keys": [self.public()]}


def make_client_key(alg: str = "ES256", kid: str | None = None) -> ClientKey:
    return ClientKey(alg, _GENERATORS[alg](kid or f"{alg.lower()}-{uuid.uuid4().hex[:8]}"))


def b64(data: bytes | dict) -> str:
    if isinstance(data, dict):
        data = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def assertion_claims(client_id: str, aud: str, *, lifetime: int = 120, now=None, **extra) -> dict:
    now = int(time.time()) if now is None else now
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "iat": now,
        "exp": now + lifetime,
        "jti": str(uuid.uuid4()),
    }
    claims.update(extra)
    return {k: v for k, v in claims.items() if v is not None}


def raw_signed(header: dict, claims: dict, key: ClientKey) -> str:
    """Sign exactly this header and these claims with ``key`` (no library header checks)."""
    signing_input = f"{b64(header)}.{b64(claims)}"
    algorithm = JWSRegistry.algorithms[header.get("alg", key.alg)]
    return f"{signing_input}.{b64(algorithm.sign(signing_input.encode(), key.key))}"


def sign(key: ClientKey, claims: dict, **header) -> str:
    """A compact JWS signed by ``key``; extra header members as given (``kid`` by default)."""
    full = {"alg": key.alg, "kid": key.kid, **header}
    return raw_signed({k: v for k, v in full.items() if v is not None}, claims, key)


def client_assertion(key: ClientKey, client_id: str, aud: str, **extra) -> str:
    return sign(key, assertion_claims(client_id, aud, **extra))


def token_form(assertion: str, scope: str | None = None, **extra) -> dict:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }
    if scope is not None:
        form["scope"] = scope
    form.update(extra)
    return form


def auth_form(assertion: str, **extra) -> dict:
    """Client authentication for introspection and revocation."""
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion, **extra}


# forging ---------------------------------------------------------------------------------
def unsigned(header: dict, claims: dict) -> str:
    """``alg: none`` style: header and claims with an empty signature."""
    return f"{b64(header)}.{b64(claims)}."


def hmac_signed(header: dict, claims: dict, secret: bytes) -> str:
    """HS256 over the usual signing input with ``secret`` (e.g. a public key's PEM)."""
    signing_input = f"{b64(header)}.{b64(claims)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def public_pem(jwk: dict) -> bytes:
    key = JWKRegistry.import_key(jwk)
    return key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def decode_part(token: str, index: int) -> dict:
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def gateway_key(keys_dir: Path) -> ClientKey:
    """The gateway's current signing key, read from its key directory like an insider would."""
    folder = Path(keys_dir) / "signing"
    newest = None
    for meta_path in folder.glob("*.json"):
        meta = json.loads(meta_path.read_text())
        if meta.get("retired_at"):
            continue
        if newest is None or (meta["created_at"], meta_path.stem) > newest[0]:
            newest = ((meta["created_at"], meta_path.stem), meta_path.stem)
    kid = newest[1]
    pem = (folder / f"{kid}.pem").read_bytes()
    return ClientKey("ES256", ECKey.import_key(pem, parameters={"kid": kid}))


def resign(token: str, key: ClientKey, *, header: dict | None = None, **claims) -> str:
    """A copy of ``token`` with changed claims/header, signed by ``key`` (None drops a member)."""
    full_header = {**decode_part(token, 0), **(header or {})}
    full_claims = {**decode_part(token, 1), **claims}
    full_header = {k: v for k, v in full_header.items() if v is not None}
    full_claims = {k: v for k, v in full_claims.items() if v is not None}
    return raw_signed(full_header, full_claims, key)


# certificates and bootstrap ------------------------------------------------------------------
def cert_header(certificate) -> str:
    """The certificate as the TLS terminator forwards it: URL-encoded PEM."""
    return quote(certificate.public_bytes(serialization.Encoding.PEM).decode(), safe="")


def organisation_yaml(oin: str, name: str, type_: str, clients: list[dict], status="active"):
    lines = [
        f'  - oin: "{oin}"',
        f'    name: "{name}"',
        f"    type: {type_}",
        f"    status: {status}",
        "    clients:",
    ]
    for client in clients:
        lines.append(f"      - client_id: {client['client_id']}")
        lines.append(f"        auth: {client['auth']}")
        for key in ("jwks", "tls_client_cert_sha256", "client_secret"):
            if key in client:
                lines.append(f"        {key}: {json.dumps(client[key])}")
        lines.append(f"        scopes: {json.dumps(client['scopes'])}")
    return "\n".join(lines)


def write_bootstrap(path: Path, organisations: list[str]) -> Path:
    path.write_text("organisations:\n" + "\n".join(textwrap.dedent(o) for o in organisations))
    return path


# an in-process gateway with two organisations (functional tests) ---------------------------------
OIN_A = "00000099000000000001"
OIN_B = "00000099000000000002"
DEV_SECRET = "development-secret-0123456789"
# production refuses a per-process rate-limit store; nothing connects to it in these tests
PRODUCTION_RATE_LIMIT_STORAGE = "redis://127.0.0.1:6379/0"


class World:
    """A gateway app (Flask test client) with school A and school B and their clients.

    Clients: ``a-sis`` and ``b-sis`` (private_key_jwt, ES256), ``a-mtls`` (tls_client_auth with
    ``a_cert``), ``a-dev`` (client_secret_basic, development only).
    """

    def __init__(self, database_url: str, keys_dir: Path, setup=None, **settings_changes):
        self.settings = Settings(database_url=database_url, keys_dir=keys_dir,
                                 **({"rate_limit_address": FLOOD_LIMIT} | settings_changes))
        self.issuer = self.settings.issuer
        self.token_url = f"{self.issuer}/oauth/token"
        self.db = Database(database_url)
        self.registry = OrganisationRegistry(self.db, production=False)
        self.keys = {"a-sis": make_client_key(), "b-sis": make_client_key()}
        ca = create_development_ca()
        self.a_cert = issue_organisation_certificate(ca, OIN_A, "School A")[1]
        self.b_cert = issue_organisation_certificate(ca, OIN_B, "School B")[1]
        scopes = ["exchange:send", "exchange:receive"]
        self.registry.add_organisation(OIN_A, "School A", "school")
        self.registry.add_organisation(OIN_B, "School B", "school")
        for client_id, oin in (("a-sis", OIN_A), ("b-sis", OIN_B)):
            credentials = ClientCredentials("private_key_jwt", jwks=self.keys[client_id].jwks())
            self.registry.add_client(oin, client_id, credentials, scopes)
        thumbprint = sha256_thumbprint_hex(self.a_cert)
        self.registry.add_client(
            OIN_A, "a-mtls", ClientCredentials("tls_client_auth", tls_cert_sha256=thumbprint), scopes
        )
        if not self.settings.is_production:
            secret = ClientCredentials("client_secret_basic", client_secret=DEV_SECRET)
            self.registry.add_client(OIN_A, "a-dev", secret, ["exchange:send"])
        self.app = create_app(self.settings)
        self.app.config["TESTING"] = True
        if setup is not None:
            setup(self.app)
        self.client = self.app.test_client()

    def close(self) -> None:
        self.app.extensions["gateway"].db.dispose()
        self.db.dispose()

    def assertion(self, client_id: str = "a-sis", aud: str | None = None, **extra) -> str:
        return client_assertion(self.keys[client_id], client_id, aud or self.token_url, **extra)

    def post_token(self, form: dict, **kwargs):
        return self.client.post("/oauth/token", data=form, **kwargs)

    def token(self, client_id: str = "a-sis", scope: str | None = None) -> str:
        response = self.post_token(token_form(self.assertion(client_id), scope))
        assert response.status_code == 200, response.json
        return response.json["access_token"]

    def mtls_token(self, scope: str | None = None) -> str:
        form = {"grant_type": "client_credentials", "client_id": "a-mtls"}
        if scope:
            form["scope"] = scope
        headers = {"X-Client-Cert": cert_header(self.a_cert)}
        response = self.post_token(form, headers=headers)
        assert response.status_code == 200, response.json
        return response.json["access_token"]

    def get(self, path: str, token: str | None = None, **kwargs):
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.get(path, headers=headers, **kwargs)


def failures(method: str, error: str) -> float:
    """The current value of ``gateway_auth_failures_total{method, error}`` in this process."""
    labels = {"method": method, "error": error}
    return REGISTRY.get_sample_value("gateway_auth_failures_total", labels) or 0.0


# a real gateway process (e2e and security tests) ----------------------------------------------
LIVE_A = "00000099000000000011"
LIVE_B = "00000099000000000012"
LIVE_SCOPES = ["exchange:send", "exchange:receive", "consent:read"]


class Partners:
    """Two organisations with real keys and certificates, registered by ``gateway bootstrap``.

    Org A: ``<p>-a-sis`` (ES256), ``<p>-a-mtls`` (tls_client_auth, ``a_cert``), ``<p>-a-dev``
    (client_secret_basic). Org B: ``<p>-b-sis`` (RS256), ``<p>-b-mtls`` (``b_cert``).
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.keys = {
            f"{prefix}-a-sis": make_client_key("ES256"),
            f"{prefix}-b-sis": make_client_key("RS256"),
        }
        ca = create_development_ca()
        self.a_cert = issue_organisation_certificate(ca, LIVE_A, "Live School A")[1]
        self.b_cert = issue_organisation_certificate(ca, LIVE_B, "Live School B")[1]

    def id(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def bootstrap(self, path: Path) -> Path:
        def pkjwt(name):
            client_id = self.id(name)
            return {"client_id": client_id, "auth": "private_key_jwt",
                    "jwks": self.keys[client_id].jwks(), "scopes": LIVE_SCOPES}

        def mtls(name, cert):
            return {"client_id": self.id(name), "auth": "tls_client_auth",
                    "tls_client_cert_sha256": sha256_thumbprint_hex(cert), "scopes": LIVE_SCOPES}

        dev = {"client_id": self.id("a-dev"), "auth": "client_secret_basic",
               "client_secret": DEV_SECRET, "scopes": ["exchange:send"]}
        return write_bootstrap(path, [
            organisation_yaml(LIVE_A, "Live School A", "school",
                              [pkjwt("a-sis"), mtls("a-mtls", self.a_cert), dev]),
            organisation_yaml(LIVE_B, "Live School B", "school",
                              [pkjwt("b-sis"), mtls("b-mtls", self.b_cert)]),
        ])


class Remote:
    """HTTP calls to a live gateway, each on a fresh connection (so both workers are used)."""

    def __init__(self, url: str, partners: Partners, issuer: str | None = None) -> None:
        self.url = url
        self.partners = partners
        self.issuer = issuer or url
        self.token_url = f"{self.issuer}/oauth/token"

    def assertion(self, name: str = "a-sis", aud: str | None = None, **extra) -> str:
        client_id = self.partners.id(name)
        return client_assertion(self.partners.keys[client_id], client_id, aud or self.token_url,
                                **extra)

    def post(self, path: str, form: dict, headers: dict | None = None):
        return requests.post(f"{self.url}{path}", data=form, headers=headers or {}, timeout=10)

    def post_token(self, form: dict, headers: dict | None = None):
        return self.post("/oauth/token", form, headers)

    def token(self, name: str = "a-sis", scope: str | None = None) -> str:
        response = self.post_token(token_form(self.assertion(name), scope))
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def mtls_form(self, name: str = "a-mtls") -> dict:
        return {"grant_type": "client_credentials", "client_id": self.partners.id(name)}

    def mtls_token(self, name: str = "a-mtls", cert=None) -> str:
        cert = cert or self.partners.a_cert
        response = self.post_token(self.mtls_form(name), {"X-Client-Cert": cert_header(cert)})
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def get(self, path: str, token: str | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return requests.get(f"{self.url}{path}", headers=headers, timeout=10)

    def introspect(self, token: str, name: str = "a-sis"):
        aud = f"{self.issuer}/oauth/introspect"
        return self.post("/oauth/introspect", auth_form(self.assertion(name, aud), token=token))

    def revoke(self, token: str, name: str = "a-sis"):
        aud = f"{self.issuer}/oauth/revoke"
        return self.post("/oauth/revoke", auth_form(self.assertion(name, aud), token=token))
