"""``/oauth/introspect`` (RFC 7662) and ``/oauth/revoke`` (RFC 7009): own tokens only."""

import ipaddress

import pytest

from tests.oauth_helpers import OIN_A, World, auth_form, cert_header, decode_part


@pytest.fixture
def world(database_url, keys_dir):
    proxies = (ipaddress.ip_network("127.0.0.1/32"),)
    world = World(database_url, keys_dir, trusted_proxies=proxies)
    yield world
    world.close()


def introspect(world, token, client_id="a-sis", aud=None, **extra):
    aud = aud or f"{world.issuer}/oauth/introspect"
    form = auth_form(world.assertion(client_id, aud), token=token, **extra)
    return world.client.post("/oauth/introspect", data=form)


def revoke(world, token, client_id="a-sis", aud=None):
    aud = aud or f"{world.issuer}/oauth/revoke"
    return world.client.post("/oauth/revoke", data=auth_form(world.assertion(client_id, aud), token=token))


def test_introspect_own_active_token(world):
    token = world.token(scope="exchange:send")
    response = introspect(world, token)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    claims = decode_part(token, 1)
    assert response.json == {
        "active": True,
        "scope": "exchange:send",
        "client_id": "a-sis",
        "sub": "a-sis",
        "token_type": "Bearer",
        "iss": world.issuer,
        "aud": world.issuer,
        "iat": claims["iat"],
        "exp": claims["exp"],
        "jti": claims["jti"],
        "org": OIN_A,
        "org_type": "school",
    }


@pytest.mark.parametrize("aud", [None, "issuer", "token"])
def test_assertion_audience_for_introspection(world, aud):
    audiences = {None: None, "issuer": world.issuer, "token": world.token_url}
    assert introspect(world, world.token(), aud=audiences[aud]).json["active"] is True


def test_assertion_for_the_revocation_endpoint_is_refused_at_introspection(world):
    response = introspect(world, world.token(), aud=f"{world.issuer}/oauth/revoke")
    assert response.status_code == 401 and response.json["error"] == "invalid_client"


@pytest.mark.parametrize(
    "token", ["foreign", "unknown", "garbage", "empty"]
)
def test_inactive_answers(world, token, keys_dir):
    tokens = {
        "foreign": world.token("b-sis"),
        "unknown": "eyJhbGciOiJFUzI1NiJ9.e30.c2ln",
        "garbage": "not a token at all",
        "empty": "",
    }
    response = introspect(world, tokens[token])
    assert response.status_code == 200 and response.json == {"active": False}


def test_missing_token_parameter(world):
    form = auth_form(world.assertion("a-sis", f"{world.issuer}/oauth/introspect"))
    response = world.client.post("/oauth/introspect", data=form)
    assert response.status_code == 400 and response.json["error"] == "invalid_request"


def test_introspection_needs_client_authentication(world):
    response = world.client.post("/oauth/introspect", data={"token": world.token()})
    assert response.status_code == 401 and response.json["error"] == "invalid_client"


def test_bound_token_introspection_shows_cnf(world):
    token = world.mtls_token()
    form = {"client_id": "a-mtls", "token": token}
    response = world.client.post(
        "/oauth/introspect", data=form, headers={"X-Client-Cert": cert_header(world.a_cert)}
    )
    assert response.json["active"] is True
    assert response.json["cnf"] == decode_part(token, 1)["cnf"]
    # the same organisation's other client is still another client
    assert introspect(world, token, "a-sis").json == {"active": False}


def test_revoke_own_token_takes_effect_at_once(world):
    token = world.token()
    assert world.get("/api/v1/me", token).status_code == 200
    response = revoke(world, token)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    refused = world.get("/api/v1/me", token)
    assert refused.status_code == 401 and refused.json["code"] == "invalid_token"
    assert introspect(world, token).json == {"active": False}
    assert revoke(world, token).status_code == 200  # idempotent


def test_revoking_a_foreign_or_unknown_token_is_a_no_op(world):
    foreign = world.token("b-sis")
    assert revoke(world, foreign).status_code == 200
    assert world.get("/api/v1/me", foreign).status_code == 200
    assert introspect(world, foreign, "b-sis").json["active"] is True
    assert revoke(world, "unknown-token").status_code == 200


def test_suspended_organisation_tokens_are_inactive(world):
    token = world.token()
    world.registry.set_status(OIN_A, "suspended")
    b_view = introspect(world, token, "b-sis")
    assert b_view.json == {"active": False}
    world.registry.set_status(OIN_A, "active")
    assert introspect(world, token).json["active"] is True
