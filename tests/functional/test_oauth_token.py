"""``POST /oauth/token`` through the Flask test client, on SQLite and PostgreSQL."""

import base64
import ipaddress
import json

import pytest
from prometheus_client import REGISTRY

from certs import x5t_s256
from gateway.registry.service import ClientCredentials
from tests.oauth_helpers import (
    DEV_SECRET,
    OIN_A,
    PRODUCTION_RATE_LIMIT_STORAGE,
    World,
    cert_header,
    client_assertion,
    decode_part,
    failures,
    token_form,
)

GENERIC = "Client authentication failed."
LOCAL_PROXY = (ipaddress.ip_network("127.0.0.1/32"),)


@pytest.fixture
def world(database_url, keys_dir):
    world = World(database_url, keys_dir, trusted_proxies=LOCAL_PROXY)
    yield world
    world.close()


def basic(client_id: str, secret: str) -> dict:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def assert_oauth_error(response, status: int, error: str) -> None:
    assert response.status_code == status, response.json
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert set(response.json) == {"error", "error_description"}
    assert response.json["error"] == error
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Basic realm=")


def test_private_key_jwt_token(world):
    response = world.post_token(token_form(world.assertion()))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300
    assert body["scope"] == "exchange:send exchange:receive"
    claims = decode_part(body["access_token"], 1)
    assert claims["org"] == OIN_A and claims["org_type"] == "school"
    assert claims["exp"] - claims["iat"] == 300 and "cnf" not in claims


def test_assertion_audience_may_be_the_issuer(world):
    response = world.post_token(token_form(world.assertion(aud=world.issuer)))
    assert response.status_code == 200


def test_client_id_parameter_must_match_the_assertion(world):
    ok = world.post_token(token_form(world.assertion(), client_id="a-sis"))
    assert ok.status_code == 200
    other = world.post_token(token_form(world.assertion(), client_id="b-sis"))
    assert_oauth_error(other, 401, "invalid_client")


@pytest.mark.parametrize(
    "scope, granted",
    [("exchange:send", "exchange:send"), ("exchange:receive exchange:send", None)],
)
def test_scope_parameter(world, scope, granted):
    response = world.post_token(token_form(world.assertion(), scope))
    assert response.status_code == 200
    assert response.json["scope"] == (granted or "exchange:send exchange:receive")


@pytest.mark.parametrize("scope", ["audit:read", "exchange:send audit:read", "nonsense", ""])
def test_scope_not_registered_is_invalid_scope(world, scope):
    before = failures("private_key_jwt", "invalid_scope")
    response = world.post_token(token_form(world.assertion(), scope))
    assert_oauth_error(response, 400, "invalid_scope")
    assert failures("private_key_jwt", "invalid_scope") == before + 1


def test_tls_client_auth_binds_the_token(world):
    token = world.mtls_token()
    claims = decode_part(token, 1)
    assert claims["cnf"] == {"x5t#S256": x5t_s256(world.a_cert)}
    assert claims["client_id"] == "a-mtls"


def test_tls_client_auth_refusals(world):
    form = {"grant_type": "client_credentials", "client_id": "a-mtls"}
    other_cert = {"X-Client-Cert": cert_header(world.b_cert)}
    assert_oauth_error(world.post_token(form, headers=other_cert), 401, "invalid_client")
    assert_oauth_error(world.post_token(form), 401, "invalid_client")
    untrusted = world.post_token(
        form,
        headers={"X-Client-Cert": cert_header(world.a_cert)},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert_oauth_error(untrusted, 401, "invalid_client")
    garbage = world.post_token(form, headers={"X-Client-Cert": "garbage"})
    assert_oauth_error(garbage, 401, "invalid_client")
    # a private_key_jwt client cannot authenticate with a certificate
    pkjwt = {"grant_type": "client_credentials", "client_id": "a-sis"}
    cert = {"X-Client-Cert": cert_header(world.a_cert)}
    assert_oauth_error(world.post_token(pkjwt, headers=cert), 401, "invalid_client")


def test_client_secret_basic_in_development(world):
    form = {"grant_type": "client_credentials"}
    response = world.post_token(form, headers=basic("a-dev", DEV_SECRET))
    assert response.status_code == 200 and response.json["scope"] == "exchange:send"
    wrong = world.post_token(form, headers=basic("a-dev", "wrong-secret-0123456789"))
    assert_oauth_error(wrong, 401, "invalid_client")
    pkjwt_client = world.post_token(form, headers=basic("a-sis", DEV_SECRET))
    assert_oauth_error(pkjwt_client, 401, "invalid_client")


def test_client_secret_basic_refused_at_auth_time_in_production(database_url, keys_dir):
    production = World(
        database_url,
        keys_dir,
        env="production",
        base_url="https://gateway.example.nl",
        metrics_token="metrics-token",
        rate_limit_storage=PRODUCTION_RATE_LIMIT_STORAGE,
    )
    try:
        secret = ClientCredentials("client_secret_basic", client_secret=DEV_SECRET)
        production.registry.add_client(OIN_A, "late-dev", secret, ["exchange:send"])
        form = {"grant_type": "client_credentials"}
        response = production.post_token(form, headers=basic("late-dev", DEV_SECRET))
        assert_oauth_error(response, 401, "invalid_client")
        assert production.post_token(token_form(production.assertion())).status_code == 200
    finally:
        production.close()


def test_suspended_organisation_gets_invalid_client(world):
    world.registry.set_status(OIN_A, "suspended")
    assert_oauth_error(world.post_token(token_form(world.assertion())), 401, "invalid_client")
    assert_oauth_error(world.post_token(
        {"grant_type": "client_credentials", "client_id": "a-mtls"},
        headers={"X-Client-Cert": cert_header(world.a_cert)},
    ), 401, "invalid_client")
    world.registry.set_status(OIN_A, "active")
    assert world.post_token(token_form(world.assertion())).status_code == 200


@pytest.mark.parametrize(
    "send",
    [
        lambda w: w.client.post("/oauth/token", json=token_form(w.assertion())),
        lambda w: w.client.post("/oauth/token", data="", content_type="text/plain"),
        lambda w: w.post_token({**token_form(w.assertion()), "grant_type": ""}),
        lambda w: w.post_token({"client_assertion": w.assertion()}),
        lambda w: w.client.post(
            "/oauth/token",
            data="grant_type=client_credentials&grant_type=client_credentials&client_assertion="
            + w.assertion()
            + "&client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            content_type="application/x-www-form-urlencoded",
        ),
        lambda w: w.post_token(token_form(w.assertion()), headers=basic("a-dev", DEV_SECRET)),
    ],
)
def test_malformed_requests_are_invalid_request(world, send):
    assert_oauth_error(send(world), 400, "invalid_request")


def test_query_string_credentials_are_ignored(world):
    query = "&".join(f"{k}={v}" for k, v in token_form(world.assertion()).items())
    response = world.client.post(
        f"/oauth/token?{query}", data={"grant_type": "client_credentials"}
    )
    assert_oauth_error(response, 401, "invalid_client")


def test_unsupported_grant_type(world):
    form = {**token_form(world.assertion()), "grant_type": "password"}
    assert_oauth_error(world.post_token(form), 400, "unsupported_grant_type")


def test_client_secret_post_is_not_supported(world):
    form = {"grant_type": "client_credentials", "client_id": "a-dev", "client_secret": DEV_SECRET}
    assert_oauth_error(world.post_token(form), 401, "invalid_client")


def test_no_credentials_at_all(world):
    before = failures("none", "invalid_client")
    assert_oauth_error(world.post_token({"grant_type": "client_credentials"}), 401, "invalid_client")
    assert failures("none", "invalid_client") == before + 1


def test_every_client_failure_answers_the_same_and_is_counted(world):
    before = failures("private_key_jwt", "invalid_client")
    forms = [
        token_form(world.assertion(aud="https://elsewhere.example")),
        token_form(world.assertion(lifetime=3600)),
        token_form(client_assertion(world.keys["a-sis"], "ghost", world.token_url)),
        token_form(client_assertion(world.keys["b-sis"], "a-sis", world.token_url)),
        token_form("not-a-jwt"),
        {**token_form(world.assertion()), "client_assertion_type": "urn:other"},
    ]
    bodies = set()
    for form in forms:
        response = world.post_token(form)
        assert_oauth_error(response, 401, "invalid_client")
        bodies.add(response.get_data(as_text=True))
    assert [json.loads(body) for body in bodies] == [
        {"error": "invalid_client", "error_description": GENERIC}
    ]
    assert failures("private_key_jwt", "invalid_client") == before + len(forms)


def test_tokens_issued_metric(world):
    labels = {"method": "private_key_jwt"}
    before = REGISTRY.get_sample_value("gateway_tokens_issued_total", labels) or 0
    world.token()
    assert REGISTRY.get_sample_value("gateway_tokens_issued_total", labels) == before + 1


def test_settings_without_trusted_proxies_ignore_the_header(database_url, keys_dir):
    world = World(database_url, keys_dir)
    try:
        assert world.settings.trusted_proxies == ()
        form = {"grant_type": "client_credentials", "client_id": "a-mtls"}
        response = world.post_token(form, headers={"X-Client-Cert": cert_header(world.a_cert)})
        assert_oauth_error(response, 401, "invalid_client")
    finally:
        world.close()
