"""Schemathesis hooks for fuzzing the gateway's API with real credentials.

Loaded by the schemathesis CLI through ``SCHEMATHESIS_HOOKS=api_hooks`` (with ``fuzz/`` on
``PYTHONPATH``); :mod:`api_schemathesis` sets that up. Everything comes from the JSON file named
by ``GATEWAY_FUZZ_API_CONTEXT``, written by the runner after it registered a partner on the
server under test:

``{"base_url", "clients": {"partner": {"client_id", "private_jwk"}, "operator": {...}},
"resources": {...}}``

What the hooks add to plain schemathesis:

- **Auth**: a real access token for every ``/api/v1`` operation, obtained the way a partner
  does (a ``private_key_jwt`` client assertion signed with the partner's key, POST
  ``/oauth/token``, all the client's scopes), refreshed before its 300 seconds run out. The
  partner is a school holding every partner scope; only the operations that no partner may be
  granted (``reidentify:approve``: approve and refuse a re-identification) get the operator
  client's token instead, so that their answers past the scope check are fuzzed too.
- **Client authentication at ``/oauth/*``**: for about half of the generated form bodies that
  claim the jwt-bearer assertion type, the random ``client_assertion`` is replaced by a genuine
  one (and ``token`` at introspect/revoke, for about half of those, by a real access token; a
  fresh one for revoke, so that the fuzzer never revokes the token its other calls carry), so
  that the fuzzer also reaches the code behind successful client authentication and validates
  the 200 answers against their schemas; the other half keeps the hostile strings.
- **Idempotency keys**: half of the well-formed ``Idempotency-Key`` values are made unique, so
  that sends get past the idempotency check (the other half still exercises reuse and 409).
- **Examples and links**: request-body examples that pass every business rule (so that the
  examples phase creates real consents, signals and exchanges), path-parameter examples naming
  resources the runner created, and OpenAPI links (create -> read/withdraw/close, inbox ->
  ack) for the stateful phase. They are added to the loaded document in memory, only where the
  document has the operation and does not already define them; the served document is not
  changed.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import uuid
from pathlib import Path

import requests
import schemathesis
from joserfc import jwt
from joserfc.jwk import JWKRegistry

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CONTEXT_ENV = "GATEWAY_FUZZ_API_CONTEXT"
TOKEN_REFRESH_SECONDS = 200
OAUTH_CLIENT_AUTH_PATHS = ("/oauth/token", "/oauth/introspect", "/oauth/revoke")


IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,128}")
OPERATOR_PATHS = re.compile(r"^/api/v1/reidentifications/[^/]+/(approve|refuse)$")


class Client:
    """One registered client whose private key the fuzzer holds."""

    def __init__(self, base_url: str, client_id: str, private_jwk: dict) -> None:
        self.base_url = base_url
        self.client_id = client_id
        self.key = JWKRegistry.import_key(private_jwk)
        self.alg: str = private_jwk.get("alg", "ES256")
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def assertion(self, audience: str | None = None) -> str:
        now = int(time.time())
        claims = {
            "iss": self.client_id, "sub": self.client_id, "jti": uuid.uuid4().hex,
            "aud": audience or f"{self.base_url}/oauth/token", "iat": now, "exp": now + 120,
        }
        header = {"alg": self.alg, "kid": self.key.kid}
        return jwt.encode(header, claims, self.key, algorithms=[self.alg])

    def new_token(self) -> str:
        response = requests.post(
            f"{self.base_url}/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": self.assertion(),
            },
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def access_token(self) -> str:
        """The token the fuzzer's API calls carry (never sent to ``/oauth/revoke``)."""
        with self._lock:
            if self._token is None or self._token[1] <= time.monotonic():
                self._token = (self.new_token(), time.monotonic() + TOKEN_REFRESH_SECONDS)
            return self._token[0]


class FuzzContext:
    """The clients the fuzzer acts as, and the resources the runner made for them."""

    def __init__(self, path: str | os.PathLike) -> None:
        data = json.loads(Path(path).read_text())
        self.base_url: str = data["base_url"].rstrip("/")
        self.clients = {
            name: Client(self.base_url, client["client_id"], client["private_jwk"])
            for name, client in data["clients"].items()
        }
        self.partner = self.clients["partner"]
        self.resources: dict = data.get("resources", {})

    def client_for(self, path: str) -> Client:
        if OPERATOR_PATHS.match(path) and "operator" in self.clients:
            return self.clients["operator"]
        return self.partner


_CONTEXT: FuzzContext | None = None


def context() -> FuzzContext:
    global _CONTEXT
    if _CONTEXT is None:
        _CONTEXT = FuzzContext(os.environ[CONTEXT_ENV])
    return _CONTEXT


# No schemathesis-side cache: it keeps one token for all operations; Client caches per client.
@schemathesis.auth(refresh_interval=None).apply_to(path_regex="^/api/v1/")
class PartnerToken:
    """A real Bearer token of the registered partner (the operator's for approve/refuse)."""

    def get(self, case, ctx):
        return context().client_for(case.operation.path).access_token()

    def set(self, case, data, ctx):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def _half(value: object) -> bool:
    """A deterministic coin: the same generated value always takes the same branch."""
    return sum(str(value).encode("utf-8", "surrogatepass")) % 2 == 0


@schemathesis.hook
def before_call(ctx, case, kwargs):
    path = case.operation.path
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and IDEMPOTENCY_KEY.fullmatch(key) and _half(key + str(case.body)):
        # Hypothesis draws the same few short keys again and again: most sends would stop at
        # 409 idempotency_key_reused. Half of the well-formed keys become unique.
        case.headers = {**case.headers, "Idempotency-Key": uuid.uuid4().hex}
    if path not in OAUTH_CLIENT_AUTH_PATHS or not isinstance(case.body, dict):
        return
    body = case.body
    if body.get("client_assertion_type") != ASSERTION_TYPE or not _half(
        body.get("client_assertion")
    ):
        return
    fuzz = context().partner
    audience = f"{fuzz.base_url}{path}" if path != "/oauth/token" else None
    body = {**body, "client_assertion": fuzz.assertion(audience)}
    if "token" in body and _half(str(body.get("token"))[:8]):
        # revoking the token the other calls carry would turn them all into 401s
        body["token"] = fuzz.new_token() if path == "/oauth/revoke" else fuzz.access_token()
    case.body = body


def _operation(document: dict, path: str, method: str) -> dict | None:
    operation = document.get("paths", {}).get(path, {}).get(method)
    return operation if isinstance(operation, dict) else None


def _add_body_example(document: dict, path: str, method: str, example: dict) -> None:
    operation = _operation(document, path, method)
    if operation is None:
        return
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is not None and "example" not in content and "examples" not in content:
        content["examples"] = {"valid": {"value": example}}


def _add_parameter_example(document: dict, path: str, method: str, name: str, value) -> None:
    operation = _operation(document, path, method)
    if operation is None or value is None:
        return
    for parameter in operation.get("parameters", []) + document["paths"][path].get(
        "parameters", []
    ):
        if parameter.get("name") == name and "example" not in parameter and (
            "examples" not in parameter
        ):
            parameter["example"] = value


def _add_link(document: dict, source: tuple[str, str, str], name: str, target: tuple[str, str],
              parameters: dict) -> None:
    path, method, status = source
    operation = _operation(document, path, method)
    target_operation = _operation(document, *target)
    if operation is None or target_operation is None or "operationId" not in target_operation:
        return
    response = operation.get("responses", {}).get(status)
    if not isinstance(response, dict) or "$ref" in response:
        return
    links = response.setdefault("links", {})
    if not any(link.get("operationId") == target_operation["operationId"]
               for link in links.values()):
        links[name] = {"operationId": target_operation["operationId"], "parameters": parameters}


@schemathesis.hook
def before_load_schema(ctx, raw_schema):
    """Examples that pass the business rules, examples of real ids, and links."""
    if CONTEXT_ENV not in os.environ:
        return
    resources = context().resources
    for entry in resources.get("body_examples", []):
        _add_body_example(raw_schema, entry["path"], entry["method"], entry["body"])
    for entry in resources.get("path_examples", []):
        _add_parameter_example(raw_schema, entry["path"], entry["method"], entry["name"],
                               entry["value"])
    by_id = {"id": "$response.body#/id"}
    _add_link(raw_schema, ("/api/v1/consents", "post", "201"), "GetConsent",
              ("/api/v1/consents/{id}", "get"), by_id)
    _add_link(raw_schema, ("/api/v1/consents", "post", "201"), "WithdrawConsent",
              ("/api/v1/consents/{id}/withdraw", "post"), by_id)
    _add_link(raw_schema, ("/api/v1/exchanges", "post", "202"), "GetExchange",
              ("/api/v1/exchanges/{id}", "get"), by_id)
    _add_link(raw_schema, ("/api/v1/signals", "post", "201"), "CloseSignal",
              ("/api/v1/signals/{id}/close", "post"), by_id)
    _add_link(raw_schema, ("/api/v1/inbox", "get", "200"), "AckFirstItem",
              ("/api/v1/inbox/{id}/ack", "post"), {"id": "$response.body#/items/0/id"})
    _add_link(raw_schema, ("/api/v1/reidentifications", "post", "202"), "GetReidentification",
              ("/api/v1/reidentifications/{id}", "get"), by_id)
