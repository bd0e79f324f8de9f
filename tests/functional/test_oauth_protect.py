"""The resource protector (``gateway.oauth.protect``) on test-only routes.

The routes below exist only in this test's app: they show what views built on
``require_scope`` get (all-of and any-of scopes, ``on_refused``, ``current_caller``) and that a
handler which looks resources up by the caller's organisation answers 404 for another
organisation's resource, exactly as for one that does not exist.
"""

import ipaddress

import pytest
from flask import Blueprint, jsonify
from sqlalchemy import select

from gateway.oauth.protect import Caller, current_caller, require_scope
from gateway.problems import NotFound
from gateway.storage.models import Client
from tests.oauth_helpers import (
    OIN_A,
    OIN_B,
    World,
    cert_header,
    decode_part,
    failures,
    gateway_key,
    resign,
)

REFUSALS: list[tuple[str, str]] = []
RESOURCES = {"r-a": OIN_A, "r-b": OIN_B}


def record_refusal(caller: Caller, code: str) -> None:
    REFUSALS.append((caller.client_id, code))


def add_test_routes(app) -> None:
    bp = Blueprint("protect_test", __name__)

    @bp.get("/api/v1/test/both")
    @require_scope("exchange:send", "exchange:receive", on_refused=record_refusal)
    def both():
        caller = current_caller()
        return jsonify(client_id=caller.client_id, org=caller.org_oin, name=caller.org_name)

    @bp.get("/api/v1/test/either")
    @require_scope("audit:read", "exchange:receive", any_of=True)
    def either():
        return jsonify(scopes=sorted(current_caller().scopes))

    @bp.get("/api/v1/test/audit")
    @require_scope("audit:read", on_refused=record_refusal)
    def audit():
        return jsonify(ok=True)

    @bp.get("/api/v1/test/resources/<resource_id>")
    @require_scope("exchange:receive")
    def resource(resource_id):
        if RESOURCES.get(resource_id) != current_caller().org_oin:
            raise NotFound("No such resource.")
        return jsonify(id=resource_id)

    app.register_blueprint(bp)


@pytest.fixture
def world(database_url, keys_dir):
    REFUSALS.clear()
    proxies = (ipaddress.ip_network("127.0.0.1/32"),)
    world = World(database_url, keys_dir, setup=add_test_routes, trusted_proxies=proxies)
    yield world
    world.close()


def assert_problem(response, status, code, challenge):
    assert response.status_code == status, response.json
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json["code"] == code and response.json["status"] == status
    assert response.headers["WWW-Authenticate"] == challenge


def test_caller_is_exposed_to_the_handler(world):
    response = world.get("/api/v1/test/both", world.token())
    assert response.json == {"client_id": "a-sis", "org": OIN_A, "name": "School A"}
    me = world.get("/api/v1/me", world.token("b-sis", "exchange:send"))
    assert me.json == {
        "client_id": "b-sis",
        "org": OIN_B,
        "org_type": "school",
        "scopes": ["exchange:send"],
    }


def test_missing_token(world):
    before = failures("bearer", "missing_token")
    for headers in ({}, {"Authorization": "Basic YTpi"}, {"Authorization": ""}):
        response = world.get("/api/v1/test/both", headers=headers)
        assert_problem(response, 401, "missing_token", "Bearer")
    assert failures("bearer", "missing_token") == before + 3
    query = world.get(f"/api/v1/test/both?access_token={world.token()}")
    assert_problem(query, 401, "missing_token", "Bearer")


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer ", "Bearer a b", "Bearer not.a.token", "bearer x.y.z", "Bearer " + "x" * 5000],
)
def test_malformed_tokens_are_invalid(world, authorization):
    response = world.get("/api/v1/test/both", headers={"Authorization": authorization})
    assert_problem(response, 401, "invalid_token", 'Bearer error="invalid_token"')


def test_all_of_scopes(world):
    token = world.token(scope="exchange:send")
    before = failures("bearer", "insufficient_scope")
    response = world.get("/api/v1/test/both", token)
    assert_problem(
        response,
        403,
        "insufficient_scope",
        'Bearer error="insufficient_scope", scope="exchange:send exchange:receive"',
    )
    assert REFUSALS == [("a-sis", "insufficient_scope")]
    assert failures("bearer", "insufficient_scope") == before + 1


def test_any_of_scopes(world):
    assert world.get("/api/v1/test/either", world.token(scope="exchange:receive")).status_code == 200
    refused = world.get("/api/v1/test/either", world.token(scope="exchange:send"))
    assert refused.status_code == 403 and REFUSALS == []


def test_scope_the_client_does_not_have_is_refused_and_reported(world):
    assert world.get("/api/v1/test/audit", world.token()).status_code == 403
    assert REFUSALS == [("a-sis", "insufficient_scope")]


def test_token_of_one_organisation_cannot_read_anothers_resources(world):
    token_a = world.token("a-sis")
    own = world.get("/api/v1/test/resources/r-a", token_a)
    assert own.status_code == 200
    foreign = world.get("/api/v1/test/resources/r-b", token_a)
    missing = world.get("/api/v1/test/resources/r-none", token_a)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json["code"] == missing.json["code"] == "not_found"
    assert world.get("/api/v1/test/resources/r-b", world.token("b-sis")).status_code == 200


def test_suspension_and_revocation_take_effect_on_the_next_request(world):
    token = world.token()
    assert world.get("/api/v1/test/both", token).status_code == 200
    world.registry.set_status(OIN_A, "suspended")
    assert_problem(world.get("/api/v1/test/both", token), 401, "invalid_token",
                   'Bearer error="invalid_token"')
    world.registry.set_status(OIN_A, "active")
    assert world.get("/api/v1/test/both", token).status_code == 200
    world.app.extensions["gateway"].oauth_store.revoke(token_jti(token), "a-sis")
    assert world.get("/api/v1/test/both", token).status_code == 401


def token_jti(token: str) -> str:
    return decode_part(token, 1)["jti"]


def test_scope_removed_from_the_client_is_no_longer_granted(world):
    token = world.token()
    with world.db.session() as session:
        client = session.scalars(select(Client).where(Client.client_id == "a-sis")).one()
        client.scopes = ["exchange:send"]
    assert world.get("/api/v1/test/both", token).status_code == 403


def test_certificate_bound_token(world):
    token = world.mtls_token()
    with_cert = {"X-Client-Cert": cert_header(world.a_cert)}
    assert world.get("/api/v1/test/both", token, headers=with_cert).status_code == 200
    challenge = 'Bearer error="invalid_token"'
    assert_problem(world.get("/api/v1/test/both", token), 401, "invalid_token", challenge)
    other = {"X-Client-Cert": cert_header(world.b_cert)}
    assert_problem(world.get("/api/v1/test/both", token, headers=other), 401, "invalid_token",
                   challenge)
    untrusted = world.get(
        "/api/v1/test/both", token, headers=with_cert, environ_base={"REMOTE_ADDR": "192.0.2.9"}
    )
    assert_problem(untrusted, 401, "invalid_token", challenge)


def test_cnf_cannot_be_stripped_from_a_bound_token(world, keys_dir):
    token = world.mtls_token()
    stripped = resign(token, gateway_key(keys_dir), cnf=None)
    assert world.get("/api/v1/test/both", stripped).status_code == 401


def test_re_signed_token_with_more_scope_gets_only_registered_scopes(world, keys_dir):
    token = world.token(scope="exchange:send")
    widened = resign(token, gateway_key(keys_dir), scope="exchange:send audit:read")
    assert world.get("/api/v1/test/audit", widened).status_code == 403


def test_require_scope_without_parentheses_is_a_programming_error():
    with pytest.raises(TypeError):
        require_scope(lambda: None)


def test_current_caller_outside_a_protected_view(world):
    with world.app.test_request_context("/"), pytest.raises(RuntimeError):
        current_caller()
