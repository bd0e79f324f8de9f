"""OAuth against real ``gateway run`` processes (gunicorn, two workers), over real HTTP.

Two servers: the session's ``live_server`` (no trusted proxies: the certificate header is
ignored) and one started here with ``GATEWAY_TRUSTED_PROXIES=127.0.0.1/32`` for
``tls_client_auth``. Data changes go through the real CLI. Every request opens a fresh
connection, so repeated checks reach both workers.
"""

import base64
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from certs import x5t_s256
from tests.e2e.conftest import start_server, stop_server
from tests.oauth_helpers import (
    DEV_SECRET,
    LIVE_A,
    LIVE_B,
    Partners,
    Remote,
    cert_header,
    decode_part,
    gateway_key,
    resign,
    token_form,
)

REPO = Path(__file__).resolve().parents[2]
ROUNDS = 8  # fresh connections per "at once, in every worker" check


@pytest.fixture(scope="module")
def partners():
    return Partners("e2e-oauth")


@pytest.fixture(scope="module")
def live(live_server, partners, tmp_path_factory):
    path = partners.bootstrap(tmp_path_factory.mktemp("oauth-live") / "bootstrap.yaml")
    live_server.cli("bootstrap", str(path))
    return Remote(live_server.url, partners)


@pytest.fixture(scope="module")
def proxied(partners, keys_dir, tmp_path_factory):
    instance = tmp_path_factory.mktemp("oauth-proxied")
    shutil.copytree(keys_dir, instance / "keys")
    server = start_server(instance, instance / "keys", {"GATEWAY_TRUSTED_PROXIES": "127.0.0.1/32"})
    server.cli("bootstrap", str(partners.bootstrap(instance / "bootstrap.yaml")))
    yield Remote(server.url, partners)
    stop_server(server.process)


def test_private_key_jwt_tokens_for_es256_and_rs256_clients(live, partners):
    for name, oin in (("a-sis", LIVE_A), ("b-sis", LIVE_B)):
        token = live.token(name)
        header = decode_part(token, 0)
        assert header["typ"] == "at+jwt" and header["alg"] == "ES256" and header["kid"]
        me = live.get("/api/v1/me", token)
        assert me.status_code == 200
        assert me.json() == {
            "client_id": partners.id(name),
            "org": oin,
            "org_type": "school",
            "scopes": sorted(["exchange:send", "exchange:receive", "consent:read"]),
        }


def test_tls_client_auth_behind_a_trusted_proxy(proxied, partners):
    token = proxied.mtls_token()
    assert decode_part(token, 1)["cnf"] == {"x5t#S256": x5t_s256(partners.a_cert)}
    with_cert = {"X-Client-Cert": cert_header(partners.a_cert)}
    assert proxied.get("/api/v1/me", token, with_cert).status_code == 200
    without = proxied.get("/api/v1/me", token)
    assert without.status_code == 401 and without.json()["code"] == "invalid_token"
    assert without.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    other = proxied.get("/api/v1/me", token, {"X-Client-Cert": cert_header(partners.b_cert)})
    assert other.status_code == 401
    wrong_cert = proxied.post_token(
        proxied.mtls_form(), {"X-Client-Cert": cert_header(partners.b_cert)}
    )
    assert wrong_cert.status_code == 401 and wrong_cert.json()["error"] == "invalid_client"


def test_certificate_header_is_ignored_from_an_untrusted_address(live, partners):
    response = live.post_token(live.mtls_form(), {"X-Client-Cert": cert_header(partners.a_cert)})
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_client_secret_basic_in_development(live, partners):
    raw = base64.b64encode(f"{partners.id('a-dev')}:{DEV_SECRET}".encode()).decode()
    response = live.post_token(
        {"grant_type": "client_credentials"}, {"Authorization": f"Basic {raw}"}
    )
    assert response.status_code == 200 and response.json()["scope"] == "exchange:send"


def test_introspection_own_and_foreign(live, partners):
    own, foreign = live.token("a-sis"), live.token("b-sis")
    active = live.introspect(own)
    assert active.status_code == 200 and active.json()["active"] is True
    assert active.json()["client_id"] == partners.id("a-sis") and active.json()["org"] == LIVE_A
    assert live.introspect(foreign).json() == {"active": False}
    assert live.introspect(foreign, "b-sis").json()["active"] is True


def test_revoked_token_is_refused_at_once_by_every_worker(live):
    token = live.token()
    assert live.get("/api/v1/me", token).status_code == 200
    foreign = live.token("b-sis")
    assert live.revoke(foreign).status_code == 200  # a foreign token: no-op
    assert live.get("/api/v1/me", foreign).status_code == 200
    assert live.revoke(token).status_code == 200
    for _ in range(ROUNDS):
        refused = live.get("/api/v1/me", token)
        assert refused.status_code == 401 and refused.json()["code"] == "invalid_token"
    assert live.introspect(token).json() == {"active": False}


def test_suspended_organisation_stops_at_once(live, live_server):
    token = live.token()
    assert live.get("/api/v1/me", token).status_code == 200
    live_server.cli("org", "suspend", LIVE_A)
    try:
        for _ in range(ROUNDS):
            assert live.get("/api/v1/me", token).status_code == 401
        refused = live.post_token(token_form(live.assertion()))
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
        assert live.get("/api/v1/me", live.token("b-sis")).status_code == 200
    finally:
        live_server.cli("org", "activate", LIVE_A)
    assert live.get("/api/v1/me", live.token()).status_code == 200


def test_expired_token_signed_by_the_real_gateway_key(live, live_server):
    token = live.token()
    key = gateway_key(Path(live_server.env["GATEWAY_KEYS_DIR"]))
    assert decode_part(token, 0)["kid"] == key.kid
    now = int(time.time())
    expired = resign(token, key, iat=now - 1000, exp=now - 700)
    response = live.get("/api/v1/me", expired)
    assert response.status_code == 401 and response.json()["code"] == "invalid_token"
    still_fresh = resign(token, key, iat=now - 1000, exp=now + 30)
    assert live.get("/api/v1/me", still_fresh).status_code == 200  # only exp differed


def jwks_kids(remote) -> set[str]:
    return {key["kid"] for key in remote.get("/oauth/jwks").json()["keys"]}


def test_signing_key_rotation_without_restart(live, live_server):
    old_token = live.token()
    old_kid = decode_part(old_token, 0)["kid"]
    output = live_server.cli("keys", "rotate").stdout
    new_kid = re.search(r"new signing key (\S+)", output).group(1)
    for _ in range(ROUNDS):
        assert {old_kid, new_kid} <= jwks_kids(live)
        assert decode_part(live.token(), 0)["kid"] == new_kid
        assert live.get("/api/v1/me", old_token).status_code == 200
    assert live.get("/api/v1/me", live.token()).status_code == 200


def test_auth_failures_are_counted_over_both_workers(live, live_server):
    def count() -> float:
        for line in live.get("/metrics").text.splitlines():
            if line.startswith("gateway_auth_failures_total{") and (
                'method="private_key_jwt"' in line and 'error="invalid_client"' in line
            ):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = count()
    for _ in range(ROUNDS):
        live.post_token(token_form(live.assertion(aud="https://elsewhere.example")))
    assert count() - before == ROUNDS


def test_example_client_gets_a_token_and_calls_the_api(live, partners, tmp_path):
    client_id = partners.id("b-sis")
    key_file = tmp_path / "client.private.jwk.json"
    key_file.write_text(json.dumps(partners.keys[client_id].key.as_dict(private=True)))
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "examples" / "token_client.py"),
            "--base-url", live.url,
            "--client-id", client_id,
            "--key", str(key_file),
            "--scope", "exchange:receive",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "client_id": client_id,
        "org": LIVE_B,
        "org_type": "school",
        "scopes": ["exchange:receive"],
    }
