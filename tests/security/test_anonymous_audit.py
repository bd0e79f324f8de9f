"""API.md section 13 rule 4: anonymous callers never write to the audit log.

An attacker who proves nothing (a bad or missing assertion, a forged signature, a replayed or
expired credential, garbage posted to the assertion consumer, a bad bearer token) must not be
able to grow the audit log or contend for its append lock: such a refusal is counted in
``gateway_auth_failures_total`` and logged, and the number of audit rows stays the same, also
when the request *names* a registered client without proving to be it. A request that did
prove who it was (a verified signature of a registered client, a correct certificate or
secret, a verified SAML response) and then failed still writes one ``auth.failure`` event.

Each test talks to the gateway over HTTP (the Flask test client) as an attacker or a partner
would; the last one posts garbage to a real gunicorn server and counts rows in its database.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import time

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from gateway.audit.models import AuditEventRow
from tests.limits import FLOOD_LIMIT
from tests.oauth_helpers import (
    DEV_SECRET,
    OIN_A,
    World,
    auth_form,
    cert_header,
    client_assertion,
    make_client_key,
    token_form,
)
from tests.saml_helpers import (
    OPERATOR_OFFICER,
    SAML,
    SCHOOL,
    Document,
    Person,
    TestIdp,
    apply_file,
    bootstrap_file,
    encode,
    forget_logins,
    migrated_sqlite,
    post_response,
    session_cookie,
    sp_flow_start,
)


def audit_rows(db) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(AuditEventRow))


def failure_events(db) -> list[dict]:
    with db.session() as session:
        rows = session.scalars(
            select(AuditEventRow)
            .where(AuditEventRow.action == "auth.failure")
            .order_by(AuditEventRow.seq)
        ).all()
    return [json.loads(row.canonical) for row in rows]


def metric_total(method: str | None = None) -> float:
    """The sum of ``gateway_auth_failures_total`` in this process (for one ``method``)."""
    total = 0.0
    for family in REGISTRY.collect():
        if family.name != "gateway_auth_failures":
            continue
        for sample in family.samples:
            if sample.name != "gateway_auth_failures_total":
                continue
            if method is None or sample.labels.get("method") == method:
                total += sample.value
    return total


def basic(user: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


# OAuth: the token, introspection and revocation endpoints ------------------------------------
@pytest.fixture
def world(database_url, keys_dir):
    # the test client's address is the TLS terminator's, so forwarded certificates count
    world = World(database_url, keys_dir, trusted_proxies=(ipaddress.ip_network("127.0.0.1/32"),))
    yield world
    world.close()


def forged(world, client_id="a-sis", endpoint="token"):
    """An assertion that names ``client_id`` but is signed by a key the attacker made."""
    return client_assertion(make_client_key(), client_id, f"{world.issuer}/oauth/{endpoint}")


def anonymous_attempts(world):
    """(name, request) pairs: each names a registered client and proves nothing."""
    introspect_aud = f"{world.issuer}/oauth/introspect"
    return [
        ("forged assertion", lambda: world.post_token(token_form(forged(world)))),
        ("forged assertion with client_id", lambda: world.post_token(
            token_form(forged(world), client_id="a-sis"))),
        ("garbage assertion", lambda: world.post_token(
            token_form("not.a.jwt", client_id="a-sis"))),
        ("expired assertion", lambda: world.post_token(token_form(
            world.assertion(now=int(time.time()) - 3600)))),
        ("assertion for another audience", lambda: world.post_token(token_form(
            world.assertion(aud="https://elsewhere.example/token")))),
        ("wrong basic secret", lambda: world.post_token(
            {"grant_type": "client_credentials"}, headers=basic("a-dev", "wrong-secret"))),
        ("client_id without credentials", lambda: world.post_token(
            {"grant_type": "client_credentials", "client_id": "a-sis"})),
        ("mtls client without certificate", lambda: world.post_token(
            {"grant_type": "client_credentials", "client_id": "a-mtls"})),
        ("mtls client with another certificate", lambda: world.post_token(
            {"grant_type": "client_credentials", "client_id": "a-mtls"},
            headers={"X-Client-Cert": cert_header(world.b_cert)})),
        ("unsupported grant type", lambda: world.post_token(
            {"grant_type": "password", "client_id": "a-sis"})),
        ("repeated parameter", lambda: world.client.post(
            "/oauth/token", data={"grant_type": "client_credentials",
                                  "client_id": ["a-sis", "a-sis"]})),
        ("introspect with forged assertion", lambda: world.client.post(
            "/oauth/introspect", data=auth_form(forged(world, endpoint="introspect"),
                                                token="x"))),
        ("introspect with expired assertion", lambda: world.client.post(
            "/oauth/introspect", data=auth_form(world.assertion(
                aud=introspect_aud, now=int(time.time()) - 3600), token="x"))),
        ("revoke with forged assertion", lambda: world.client.post(
            "/oauth/revoke", data=auth_form(forged(world, endpoint="revoke"), token="x"))),
        ("revoke naming the client by client_id", lambda: world.client.post(
            "/oauth/revoke", data={"client_id": "a-sis", "token": "x"})),
    ]


def test_oauth_failures_that_prove_nothing_write_no_audit_row(world):
    for name, attempt in anonymous_attempts(world):
        rows, counted = audit_rows(world.db), metric_total()
        response = attempt()
        assert 400 <= response.status_code < 500, (name, response.status_code)
        assert audit_rows(world.db) == rows, f"{name}: an anonymous failure was audited"
        assert metric_total() == counted + 1, f"{name}: not counted in the metric"


def test_a_replayed_assertion_writes_no_audit_row(world):
    assertion = world.assertion()
    assert world.post_token(token_form(assertion)).status_code == 200
    rows, counted = audit_rows(world.db), metric_total("private_key_jwt")
    for _ in range(5):
        assert world.post_token(token_form(assertion)).status_code == 401
    assert audit_rows(world.db) == rows
    assert metric_total("private_key_jwt") == counted + 5


def test_many_forged_assertions_for_a_registered_client_leave_the_log_alone(world):
    rows = audit_rows(world.db)
    for _ in range(50):
        assert world.post_token(token_form(forged(world))).status_code == 401
    assert audit_rows(world.db) == rows


def test_an_unregistered_scope_after_a_verified_signature_is_audited(world):
    response = world.post_token(token_form(world.assertion(), scope="consent:admin"))
    assert response.status_code == 400
    assert response.json["error"] == "invalid_scope"
    [event] = failure_events(world.db)
    assert event["actor"] == {"org": OIN_A, "client_id": "a-sis", "user": None}
    assert (event["decision"], event["reason"]) == ("denied", "invalid_scope")


def test_an_unregistered_scope_after_a_correct_secret_is_audited(world):
    response = world.post_token(
        {"grant_type": "client_credentials", "scope": "exchange:receive"},
        headers=basic("a-dev", DEV_SECRET),
    )
    assert response.status_code == 400
    [event] = failure_events(world.db)
    assert event["actor"]["client_id"] == "a-dev"
    assert event["reason"] == "invalid_scope"


def test_a_suspended_organisation_with_a_verified_assertion_is_audited_once(world):
    world.registry.set_status(OIN_A, "suspended")
    assertion = world.assertion()
    response = world.post_token(token_form(assertion))
    assert response.status_code == 401
    [event] = failure_events(world.db)
    assert event["actor"] == {"org": OIN_A, "client_id": "a-sis", "user": None}
    assert (event["decision"], event["reason"]) == ("denied", "invalid_client")
    # the same assertion again proves nothing new: whoever holds a copy could send it
    rows = audit_rows(world.db)
    for _ in range(3):
        assert world.post_token(token_form(assertion)).status_code == 401
    assert audit_rows(world.db) == rows


def test_a_suspended_organisation_with_its_certificate_is_audited(world):
    world.registry.set_status(OIN_A, "suspended")
    response = world.post_token(
        {"grant_type": "client_credentials", "client_id": "a-mtls"},
        headers={"X-Client-Cert": cert_header(world.a_cert)},
    )
    assert response.status_code == 401
    [event] = failure_events(world.db)
    assert event["actor"]["client_id"] == "a-mtls"


def test_a_suspended_organisation_with_a_wrong_certificate_is_not_audited(world):
    world.registry.set_status(OIN_A, "suspended")
    rows = audit_rows(world.db)
    response = world.post_token(
        {"grant_type": "client_credentials", "client_id": "a-mtls"},
        headers={"X-Client-Cert": cert_header(world.b_cert)},
    )
    assert response.status_code == 401
    assert audit_rows(world.db) == rows


def test_introspection_by_a_proven_client_with_a_bad_request_is_audited(world):
    aud = f"{world.issuer}/oauth/introspect"
    response = world.client.post(
        "/oauth/introspect",
        data=auth_form(world.assertion(aud=aud), token="x", token_type_hint="id_token"),
    )
    assert response.status_code == 400
    [event] = failure_events(world.db)
    assert event["actor"]["client_id"] == "a-sis"
    assert event["reason"] == "unsupported_token_type"


# bearer tokens on /api/v1 --------------------------------------------------------------------
def test_bad_bearer_tokens_write_no_audit_row(world):
    token = world.token()
    attempts = {
        "no token": {},
        "garbage token": {"Authorization": "Bearer garbage"},
        "tampered token": {"Authorization": f"Bearer {token[:-4]}AAAA"},
        "empty bearer": {"Authorization": "Bearer "},
    }
    for name, headers in attempts.items():
        rows, counted = audit_rows(world.db), metric_total("bearer")
        response = world.client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401, name
        assert response.content_type.startswith("application/problem+json"), name
        assert audit_rows(world.db) == rows, f"{name}: audited"
        assert metric_total("bearer") == counted + 1, f"{name}: not counted"


def test_a_valid_token_of_a_suspended_organisation_is_audited(world):
    """The token proves which client calls (API.md section 13 rule 4: a valid token, then a
    suspended organisation): one event per refused call, for the operator and the client's
    organisation to see."""
    token = world.token()
    world.registry.set_status(OIN_A, "suspended")
    response = world.get("/api/v1/me", token)
    assert response.status_code == 401
    assert response.json["code"] == "invalid_token"
    [event] = failure_events(world.db)
    assert event["actor"] == {"org": OIN_A, "client_id": "a-sis", "user": None}
    assert (event["decision"], event["reason"]) == ("denied", "invalid_token")


def test_a_bound_token_of_a_suspended_organisation_without_its_certificate_is_not_audited(
    world,
):
    """Possession of a certificate-bound token proves nothing without the certificate."""
    token = world.mtls_token()
    world.registry.set_status(OIN_A, "suspended")
    rows = audit_rows(world.db)
    assert world.get("/api/v1/me", token).status_code == 401
    assert audit_rows(world.db) == rows
    with_certificate = {"X-Client-Cert": cert_header(world.a_cert)}
    assert world.get("/api/v1/me", token, headers=with_certificate).status_code == 401
    assert audit_rows(world.db) == rows + 1


# SAML: the assertion consumer ----------------------------------------------------------------
@pytest.fixture(scope="module")
def idp(tmp_path_factory) -> TestIdp:
    return TestIdp(tmp_path_factory.mktemp("idp"))


@pytest.fixture(scope="module")
def sp_app(idp, keys_dir, tmp_path_factory):
    from gateway import create_app
    from gateway.config import Settings

    folder = tmp_path_factory.mktemp("anonymous-audit-sp")
    url = migrated_sqlite(folder)
    apply_file(url, bootstrap_file(folder, idp.metadata()))
    app = create_app(Settings(env="development", database_url=url, keys_dir=keys_dir,
                              rate_limit_address=FLOOD_LIMIT))
    app.config["TESTING"] = True
    idp.bind(app.test_client().get("/saml/metadata").get_data(as_text=True))
    yield app
    app.extensions["gateway"].db.dispose()


@pytest.fixture
def sp(sp_app):
    forget_logins(sp_app)
    yield sp_app, sp_app.test_client(), sp_app.extensions["gateway"].db


def request_for(client, idp):
    return idp.read_request(sp_flow_start(client))


def wrong_audience(doc: Document) -> None:
    doc.set_text(doc.first(SAML, "Audience"), "https://other-sp.example/metadata")


def saml_attacks(client, idp):
    """(name, request) pairs: refused SAML responses that identify no one."""

    def replayed():
        xml = idp.respond(request_for(client, idp))
        assert post_response(client, xml).status_code == 303
        return post_response(client.application.test_client(), xml)

    return [
        ("garbage", lambda: client.post("/saml/acs", data={"SAMLResponse": "garbage"})),
        ("no SAMLResponse", lambda: client.post("/saml/acs", data={})),
        ("not XML", lambda: post_response(client, "<<<not xml")),
        ("signed by another key", lambda: post_response(client, idp.respond(
            request_for(client, idp), key_file=idp.other_key_file))),
        ("unsigned", lambda: post_response(client, idp.respond(
            request_for(client, idp), sign_assertion=False, sign_response=False))),
        ("signed for another service provider", lambda: post_response(client, idp.respond(
            request_for(client, idp), change=wrong_audience))),
        ("replayed", replayed),
    ]


def test_refused_saml_responses_write_no_audit_row(sp, idp):
    app, client, db = sp
    for name, attempt in saml_attacks(client, idp):
        counted = metric_total("saml")
        rows = audit_rows(db)
        response = attempt()
        assert response.status_code in (400, 403), (name, response.status_code)
        assert session_cookie(response) is None, name
        assert audit_rows(db) == rows, f"{name}: an anonymous SAML failure was audited"
        assert metric_total("saml") == counted + 1, f"{name}: not counted in the metric"


def test_many_garbage_posts_to_the_acs_leave_the_log_alone(sp):
    app, client, db = sp
    rows, counted = audit_rows(db), metric_total("saml")
    for number in range(100):
        response = client.post("/saml/acs", data={"SAMLResponse": encode(f"<x{number}/>")})
        assert response.status_code == 400
    assert audit_rows(db) == rows
    assert metric_total("saml") == counted + 100


def test_a_verified_login_with_a_role_the_idp_may_not_vouch_for_is_audited(sp, idp):
    """A school's IdP account claiming the operator's admin role: the role does not count
    (API.md section 10), and the attempt is written for the operator's privacy officers."""
    app, client, db = sp
    person = Person("admin@school.test", ("gateway-admin",), SCHOOL, "Sem School")
    response = post_response(client, idp.respond(request_for(client, idp), person))
    assert response.status_code == 303
    [event] = failure_events(db)[-1:]
    assert len(failure_events(db)) == app.config["FAILURES_BEFORE"] + 1
    assert event["actor"] == {"org": SCHOOL, "client_id": None, "user": "admin@school.test"}
    assert event["decision"] == "denied"
    assert event["reason"] == "saml_role_not_vouched"


def test_a_verified_login_for_an_unknown_organisation_is_audited(sp, idp):
    app, client, db = sp
    unknown = "00000099999999999999"
    person = Person("officer@unknown.test", ("privacy-officer",), unknown, "Onbekend")
    assert post_response(client, idp.respond(request_for(client, idp), person)).status_code == 303
    events = failure_events(db)
    assert len(events) == app.config["FAILURES_BEFORE"] + 1
    assert events[-1]["actor"]["org"] == unknown
    assert events[-1]["reason"] == "saml_organisation_unknown"


def test_an_honest_login_writes_no_failure(sp, idp):
    app, client, db = sp
    response = post_response(client, idp.respond(request_for(client, idp), OPERATOR_OFFICER))
    assert response.status_code == 303
    assert len(failure_events(db)) == app.config["FAILURES_BEFORE"]


def test_a_verified_login_for_a_suspended_organisation_is_audited(sp, idp):
    from gateway.registry.service import OrganisationRegistry

    app, client, db = sp
    registry = OrganisationRegistry(db, production=False)
    registry.set_status(SCHOOL, "suspended")
    try:
        person = Person("officer@school.test", ("privacy-officer",), SCHOOL, "Sanne School")
        response = post_response(client, idp.respond(request_for(client, idp), person))
        assert response.status_code == 303
    finally:
        registry.set_status(SCHOOL, "active")
    events = failure_events(db)
    assert len(events) == app.config["FAILURES_BEFORE"] + 1
    assert events[-1]["actor"] == {"org": SCHOOL, "client_id": None, "user": "officer@school.test"}
    assert events[-1]["reason"] == "organisation_suspended"
