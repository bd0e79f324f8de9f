"""Login CSRF (issue 16): a SAML response counts only in the browser that started its login.

The attack: Eve starts a login in her own browser, signs in at the IdP as herself and gets
the victim's browser to post her (perfectly valid, signed) response to ``/saml/acs``, for
example from an auto-submitting form on a page of hers. Without a binding the victim is then
logged in as Eve, and what the victim does or enters in the web interface happens in Eve's
account. ``/login`` therefore sets a short-lived cookie whose hash is the AuthnRequest's ID;
a response whose ``InResponseTo`` was started by another browser is refused like every other
refused response: a Dutch page, no session, counted in ``gateway_auth_failures_total``,
logged with its code and never written to the audit log (API.md section 13 rule 4).
"""

from __future__ import annotations

import logging

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from gateway.audit.models import AuditEventRow
from gateway.config import Settings
from gateway.web.models import WebSessionRow
from tests.saml_helpers import (
    OPERATOR_OFFICER,
    SAML,
    Document,
    Person,
    TestIdp,
    apply_file,
    bootstrap_file,
    forget_logins,
    migrated_sqlite,
    post_response,
    session_cookie,
    sp_flow_start,
)

EVE = Person("eve@beheer.test", ("privacy-officer",), OPERATOR_OFFICER.org, "Eve Aanvaller")


@pytest.fixture(scope="module")
def idp(tmp_path_factory) -> TestIdp:
    return TestIdp(tmp_path_factory.mktemp("csrf-idp"))


def _app(idp, keys_dir, folder, **settings):
    from gateway import create_app

    url = migrated_sqlite(folder)
    apply_file(url, bootstrap_file(folder, idp.metadata()))
    app = create_app(Settings(database_url=url, keys_dir=keys_dir, **settings))
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="module")
def sp_app(idp, keys_dir, tmp_path_factory):
    """Development over https (as behind a local TLS proxy): the cookie is a ``__Host-``
    one, as in production."""
    app = _app(idp, keys_dir, tmp_path_factory.mktemp("csrf-sp"),
               base_url="https://gateway.test")
    idp.bind(app.test_client().get("/saml/metadata").get_data(as_text=True))
    yield app
    app.extensions["gateway"].db.dispose()


@pytest.fixture
def app(sp_app):
    forget_logins(sp_app)
    sp_app.config["SAML_COUNTED_BEFORE"] = saml_failures_counted()
    return sp_app


def saml_failures_counted() -> float:
    return sum(
        sample.value
        for family in REGISTRY.collect()
        if family.name == "gateway_auth_failures"
        for sample in family.samples
        if sample.name == "gateway_auth_failures_total" and sample.labels["method"] == "saml"
    )


def sessions(app) -> int:
    with app.extensions["gateway"].db.session() as session:
        return session.scalar(select(func.count()).select_from(WebSessionRow))


def audit_failures(app) -> int:
    with app.extensions["gateway"].db.session() as session:
        return session.scalar(
            select(func.count()).select_from(AuditEventRow).where(
                AuditEventRow.action == "auth.failure")
        )


def login_cookie(response) -> str:
    """The ``Set-Cookie`` header of the login binding cookie set by ``/login``."""
    headers = [h for h in response.headers.getlist("Set-Cookie") if "gateway_saml_login=" in h]
    assert len(headers) == 1, response.headers.getlist("Set-Cookie")
    return headers[0]


def eves_response(app, idp) -> str:
    """Eve starts a login in her own browser and signs in at the IdP as herself."""
    eve = app.test_client()
    return idp.respond(idp.read_request(sp_flow_start(eve)), EVE)


def assert_refused_as_csrf(app, response, caplog):
    body = response.get_data(as_text=True)
    assert response.status_code == 403, body[:500]
    assert "text/html" in response.content_type
    assert 'lang="nl"' in body and "geweigerd" in body.lower()
    assert session_cookie(response) is None
    assert sessions(app) == 0
    assert audit_failures(app) == app.config["FAILURES_BEFORE"], "refusals are not audited"
    assert saml_failures_counted() == app.config["SAML_COUNTED_BEFORE"] + 1
    codes = [getattr(r, "code", None) for r in caplog.records if r.message == "saml refused"]
    assert codes == ["saml_other_browser"]


def test_a_response_posted_by_a_browser_that_started_no_login_is_refused(app, idp, caplog):
    caplog.set_level(logging.WARNING)
    victim = app.test_client()
    response = post_response(victim, eves_response(app, idp))
    assert_refused_as_csrf(app, response, caplog)


def test_a_response_for_another_browsers_login_is_refused_while_the_victim_has_its_own(
    app, idp, caplog
):
    """The victim has a login of its own outstanding (so it holds a binding cookie): Eve's
    response names her request, not the victim's, and is refused all the same."""
    caplog.set_level(logging.WARNING)
    victim = app.test_client()
    sp_flow_start(victim)
    response = post_response(victim, eves_response(app, idp))
    assert_refused_as_csrf(app, response, caplog)


def test_the_browser_that_started_the_login_logs_in(app, idp):
    browser = app.test_client()
    start = browser.get("/login")
    assert start.status_code == 302
    xml = idp.respond(idp.read_request(start.headers["Location"]), OPERATOR_OFFICER)
    response = post_response(browser, xml)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert session_cookie(response)
    assert sessions(app) == 1
    # the binding is spent: the login response clears it
    cleared = login_cookie(response)
    assert cleared.startswith("__Host-gateway_saml_login=;")
    assert "Max-Age=0" in cleared or "expires=Thu, 01 Jan 1970" in cleared


def test_the_binding_cookie_reaches_the_cross_site_post_and_nothing_else(app):
    """The IdP posts cross-site: only ``SameSite=None`` (which needs ``Secure``) is sent on
    that POST. ``__Host-``: Secure, ``Path=/``, no ``Domain``; HttpOnly; short-lived."""
    cookie = login_cookie(app.test_client().get("/login"))
    name, _, value = cookie.split(";", 1)[0].partition("=")
    assert name == "__Host-gateway_saml_login"
    assert len(value) >= 43  # 256 random bits, base64url
    attributes = [part.strip() for part in cookie.split(";")[1:]]
    for flag in ("Secure", "HttpOnly", "SameSite=None", "Path=/"):
        assert flag in attributes, cookie
    assert not any(a.lower().startswith("domain") for a in attributes)
    max_age = next(int(a.split("=")[1]) for a in attributes if a.startswith("Max-Age="))
    assert 0 < max_age <= 600


def test_each_login_gets_a_fresh_binding(app):
    browser = app.test_client()
    first = login_cookie(browser.get("/login")).split(";", 1)[0]
    second = login_cookie(browser.get("/login")).split(";", 1)[0]
    assert first != second


def test_a_stolen_response_with_a_guessed_cookie_is_refused(app, idp, caplog):
    """A cookie the attacker makes up does not hash to the request's ID."""
    caplog.set_level(logging.WARNING)
    victim = app.test_client()
    victim.set_cookie("__Host-gateway_saml_login", "A" * 43)
    response = post_response(victim, eves_response(app, idp))
    assert_refused_as_csrf(app, response, caplog)


def test_development_over_plain_http_uses_an_unprefixed_lax_cookie(idp, keys_dir, tmp_path):
    """Browsers drop ``Secure`` cookies over http and ``SameSite=None`` without ``Secure``;
    the development IdP is on the same site, so ``Lax`` reaches its POST."""
    app = _app(idp, keys_dir, tmp_path, base_url="http://127.0.0.1:8000")
    try:
        cookie = login_cookie(app.test_client().get("/login"))
    finally:
        app.extensions["gateway"].db.dispose()
    assert cookie.startswith("gateway_saml_login=")
    attributes = [part.strip() for part in cookie.split(";")[1:]]
    assert "SameSite=Lax" in attributes and "HttpOnly" in attributes
    assert "Secure" not in attributes


def test_a_non_ascii_in_response_to_is_refused_not_a_crash(app, idp, caplog):
    """The binding check compares the response's ``InResponseTo`` (attacker-chosen text) with
    the cookie's hash; a non-ASCII value must be a refusal like any other, never a 500."""
    caplog.set_level(logging.WARNING)
    browser = app.test_client()
    request = idp.read_request(sp_flow_start(browser))

    def non_ascii(doc: Document) -> None:
        doc.response.setAttribute("InResponseTo", "id-\u00e9t\u00e9")
        for data in doc.all(SAML, "SubjectConfirmationData"):
            data.setAttribute("InResponseTo", "id-\u00e9t\u00e9")

    response = post_response(browser, idp.respond(request, change=non_ascii))
    assert_refused_as_csrf(app, response, caplog)
