"""Attack corpus for the OAuth server and the resource protector, against a real server.

One ``gateway run`` process (gunicorn, two workers, ``GATEWAY_TRUSTED_PROXIES=127.0.0.1/32``)
for the module, real keys, real HTTP on fresh connections. Each hostile client assertion
must get exactly ``invalid_client`` (401) with the one generic description, and each hostile
access token exactly ``invalid_token`` (401): the answer never tells which check failed.
The unit tests (tests/unit/gateway/oauth) show each is refused by the check it targets.
"""

import base64
import json
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e.conftest import start_server, stop_server
from tests.oauth_helpers import (
    DEV_SECRET,
    Partners,
    Remote,
    assertion_claims,
    b64,
    cert_header,
    client_assertion,
    decode_part,
    gateway_key,
    hmac_signed,
    make_client_key,
    public_pem,
    resign,
    sign,
    token_form,
    unsigned,
)

GENERIC = {"error": "invalid_client", "error_description": "Client authentication failed."}
INVALID_TOKEN = 'Bearer error="invalid_token"'


@pytest.fixture(scope="module")
def partners():
    return Partners("sec")


@pytest.fixture(scope="module")
def server(partners, keys_dir, tmp_path_factory):
    instance = tmp_path_factory.mktemp("oauth-attacks")
    shutil.copytree(keys_dir, instance / "keys")
    live = start_server(instance, instance / "keys", {"GATEWAY_TRUSTED_PROXIES": "127.0.0.1/32"})
    live.cli("bootstrap", str(partners.bootstrap(instance / "bootstrap.yaml")))
    yield live
    stop_server(live.process)


@pytest.fixture(scope="module")
def remote(server, partners):
    return Remote(server.url, partners)


@pytest.fixture(scope="module")
def gateway(server):
    return gateway_key(Path(server.env["GATEWAY_KEYS_DIR"]))


# client assertions ---------------------------------------------------------------------------
def _claims(r, **changes):
    claims = {**assertion_claims(r.partners.id("a-sis"), r.token_url), **changes}
    return {k: v for k, v in claims.items() if v is not None}


def _key(r):
    return r.partners.keys[r.partners.id("a-sis")]


def _attacker_with_jwk(r):
    attacker = make_client_key("ES256", kid=_key(r).kid)
    return sign(attacker, _claims(r), jwk=attacker.public())


ASSERTIONS = {
    "unknown client": lambda r: client_assertion(_key(r), "sec-ghost", r.token_url),
    "signed by another key with the registered kid": lambda r: sign(
        make_client_key("ES256", kid=_key(r).kid), _claims(r)
    ),
    "signed by another organisation's key": lambda r: sign(
        r.partners.keys[r.partners.id("b-sis")], _claims(r)
    ),
    "alg none": lambda r: unsigned({"alg": "none", "kid": _key(r).kid}, _claims(r)),
    "alg None": lambda r: unsigned({"alg": "None"}, _claims(r)),
    "HS256 with the client's public key": lambda r: hmac_signed(
        {"alg": "HS256", "kid": _key(r).kid}, _claims(r), public_pem(_key(r).public())
    ),
    "wrong aud": lambda r: sign(_key(r), _claims(r, aud="https://gateway.other.nl/oauth/token")),
    "aud of the revocation endpoint": lambda r: sign(
        _key(r), _claims(r, aud=f"{r.issuer}/oauth/revoke")
    ),
    "aud as an array": lambda r: sign(_key(r), _claims(r, aud=[r.token_url])),
    "expired": lambda r: sign(_key(r), _claims(r, iat=int(time.time()) - 600, exp=int(time.time()) - 300)),
    "exp too far ahead": lambda r: sign(_key(r), _claims(r, exp=int(time.time()) + 3600)),
    "no exp": lambda r: sign(_key(r), _claims(r, exp=None)),
    "nbf in the future": lambda r: sign(_key(r), _claims(r, nbf=int(time.time()) + 600)),
    "no jti": lambda r: sign(_key(r), _claims(r, jti=None)),
    "iss differs from sub": lambda r: sign(_key(r), _claims(r, iss="sec-b-sis")),
    "jwk header injection": _attacker_with_jwk,
    "jku header": lambda r: sign(_key(r), _claims(r), jku="https://attacker.example/jwks.json"),
    "x5u header": lambda r: sign(_key(r), _claims(r), x5u="https://attacker.example/cert.pem"),
    "x5c header": lambda r: sign(_key(r), _claims(r), x5c=["MIIBattacker"]),
    "unknown crit": lambda r: sign(_key(r), _claims(r), crit=["urn:x:y"], **{"urn:x:y": 1}),
    "b64 false": lambda r: sign(_key(r), _claims(r), b64=False, crit=["b64"]),
    "tampered payload": lambda r: ".".join(
        [sign(_key(r), _claims(r)).split(".")[0], b64(_claims(r, sub="sec-b-sis", iss="sec-b-sis")),
         sign(_key(r), _claims(r)).split(".")[2]]
    ),
    "oversized": lambda r: sign(_key(r), _claims(r, padding="x" * 12_000)),
}


@pytest.mark.parametrize("attack", list(ASSERTIONS))
def test_hostile_assertion_is_invalid_client(remote, attack):
    response = remote.post_token(token_form(ASSERTIONS[attack](remote)))
    assert response.status_code == 401, response.text
    assert response.json() == GENERIC
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["WWW-Authenticate"].startswith("Basic realm=")


def test_client_id_parameter_naming_another_client(remote, partners):
    form = token_form(remote.assertion(), client_id=partners.id("b-sis"))
    assert remote.post_token(form).json() == GENERIC


def test_replayed_jti_is_refused_in_every_worker(remote):
    assertion = remote.assertion()
    assert remote.post_token(token_form(assertion)).status_code == 200
    for _ in range(10):
        replay = remote.post_token(token_form(assertion))
        assert replay.status_code == 401 and replay.json() == GENERIC


def test_concurrent_replays_have_one_winner(remote):
    assertion = remote.assertion()
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: remote.post_token(token_form(assertion)).status_code,
                                 range(8)))
    assert sorted(statuses) == [200] + [401] * 7


def test_replay_is_refused_by_a_process_started_afterwards(server, remote, tmp_path):
    """A new server process on the same database (a restart) still knows the jti."""
    assertion = remote.assertion()
    assert remote.post_token(token_form(assertion)).status_code == 200
    restarted = start_server(
        server.instance,
        Path(server.env["GATEWAY_KEYS_DIR"]),
        {"GATEWAY_TRUSTED_PROXIES": "127.0.0.1/32", "GATEWAY_BASE_URL": server.url},
    )
    try:
        again = Remote(restarted.url, remote.partners, issuer=server.url)
        assert again.post_token(token_form(assertion)).json() == GENERIC
        assert again.post_token(token_form(again.assertion())).status_code == 200
    finally:
        stop_server(restarted.process)


@pytest.mark.parametrize("scope", ["audit:read", "exchange:send audit:read", "reidentify:approve"])
def test_scope_escalation_at_the_token_endpoint(remote, scope):
    response = remote.post_token(token_form(remote.assertion(), scope))
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"


def test_certificate_of_another_organisation(remote, partners):
    headers = {"X-Client-Cert": cert_header(partners.b_cert)}
    assert remote.post_token(remote.mtls_form(), headers).json() == GENERIC
    assert remote.post_token(remote.mtls_form()).json() == GENERIC


def test_wrong_development_secret(remote, partners):
    raw = base64.b64encode(f"{partners.id('a-dev')}:{DEV_SECRET}x".encode()).decode()
    response = remote.post_token({"grant_type": "client_credentials"}, {"Authorization": f"Basic {raw}"})
    assert response.json() == GENERIC


# access tokens ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def token(remote):
    return remote.token()


def _jwks_pem(r):
    return public_pem(r.get("/oauth/jwks").json()["keys"][-1])


TOKENS = {
    "garbage": lambda r, t, g: "garbage",
    "alg none": lambda r, t, g: unsigned({**decode_part(t, 0), "alg": "none"}, decode_part(t, 1)),
    "HS256 with the gateway's public key": lambda r, t, g: hmac_signed(
        {**decode_part(t, 0), "alg": "HS256"}, decode_part(t, 1), _jwks_pem(r)
    ),
    "signed by a different key with a gateway kid": lambda r, t, g: resign(
        t, make_client_key("ES256", kid=g.kid)
    ),
    "missing typ": lambda r, t, g: resign(t, g, header={"typ": None}),
    "typ JWT": lambda r, t, g: resign(t, g, header={"typ": "JWT"}),
    "jwk header injection": lambda r, t, g: _inject_jwk(t, g),
    "jku header": lambda r, t, g: resign(t, g, header={"jku": "https://attacker.example/jwks"}),
    "x5c header": lambda r, t, g: resign(t, g, header={"x5c": ["MIIBattacker"]}),
    "unknown crit": lambda r, t, g: resign(t, g, header={"crit": ["urn:x"], "urn:x": 1}),
    "unknown kid": lambda r, t, g: resign(t, g, header={"kid": "not-a-gateway-key"}),
    "expired": lambda r, t, g: resign(t, g, iat=int(time.time()) - 900, exp=int(time.time()) - 600),
    "wrong aud": lambda r, t, g: resign(t, g, aud="https://api.other.nl"),
    "wrong iss": lambda r, t, g: resign(t, g, iss="https://attacker.example"),
    "client_id of another organisation": lambda r, t, g: resign(
        t, g, client_id="sec-b-sis", sub="sec-b-sis"
    ),
    "org of another organisation": lambda r, t, g: resign(t, g, org="00000099000000000012"),
    "jti never issued": lambda r, t, g: resign(t, g, jti="never-issued"),
    "tampered payload": lambda r, t, g: ".".join(
        [t.split(".")[0], b64({**decode_part(t, 1), "scope": "audit:read"}), t.split(".")[2]]
    ),
}


def _inject_jwk(token, gateway):
    attacker = make_client_key("ES256", kid=gateway.kid)
    return resign(token, attacker, header={"jwk": attacker.public()})


@pytest.mark.parametrize("attack", list(TOKENS))
def test_hostile_access_token_is_invalid_token(remote, token, gateway, attack):
    forged = TOKENS[attack](remote, token, gateway)
    response = remote.get("/api/v1/me", forged)
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "invalid_token"
    assert response.headers["WWW-Authenticate"] == INVALID_TOKEN
    assert response.headers["Content-Type"] == "application/problem+json"
    assert remote.get("/api/v1/me", token).status_code == 200  # the original still works


def test_the_refusals_are_indistinguishable(remote, token, gateway):
    details = {
        json.dumps({k: v for k, v in remote.get("/api/v1/me", build(remote, token, gateway)).json().items()})
        for build in TOKENS.values()
    }
    assert len(details) == 1


def test_no_token_and_token_in_the_query(remote, token):
    for response in (
        remote.get("/api/v1/me"),
        remote.get(f"/api/v1/me?access_token={token}"),
        remote.get("/api/v1/me", headers={"Authorization": f"Basic {token}"}),
    ):
        assert response.status_code == 401 and response.json()["code"] == "missing_token"
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_certificate_bound_token_without_or_with_another_certificate(remote, partners, gateway):
    bound = remote.mtls_token()
    own = {"X-Client-Cert": cert_header(partners.a_cert)}
    assert remote.get("/api/v1/me", bound, own).status_code == 200
    for headers in ({}, {"X-Client-Cert": cert_header(partners.b_cert)}, {"X-Client-Cert": "x"}):
        response = remote.get("/api/v1/me", bound, headers)
        assert response.status_code == 401 and response.headers["WWW-Authenticate"] == INVALID_TOKEN
    stripped = resign(bound, gateway, cnf=None)
    assert remote.get("/api/v1/me", stripped).status_code == 401
