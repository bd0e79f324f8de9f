"""Logging in to the web interface through the development IdP (a real pysaml2 IdP built
into the app in development), for every role; logging out; timeouts; cookie flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from gateway.web.models import WebSessionRow
from tests.saml_helpers import devidp_login, forget_logins, gateway_app, session_cookie


@pytest.fixture(scope="module")
def dev_app(keys_dir, tmp_path_factory):
    app = gateway_app(tmp_path_factory.mktemp("web-login"), keys_dir)
    yield app
    app.extensions["gateway"].db.dispose()


@pytest.fixture
def app(dev_app):
    forget_logins(dev_app)
    return dev_app


def sessions(app) -> int:
    with app.extensions["gateway"].db.session() as session:
        return session.scalar(select(func.count()).select_from(WebSessionRow))


@pytest.mark.parametrize(
    ("user", "landing", "heading"),
    [
        ("privacy-operator", 200, "Overzicht"),
        ("admin-operator", 200, "Overzicht"),
        ("privacy-school", 200, "Overzicht"),
        ("no-role", 403, "Geen toegang"),
    ],
)
def test_each_demo_user_logs_in_and_lands_on_the_dashboard(app, user, landing, heading):
    client = app.test_client()
    response = devidp_login(client, user)
    assert response.status_code == 303
    assert response.headers["Location"] == "/ui/"
    assert session_cookie(response)
    page = client.get("/ui/")
    assert page.status_code == landing
    body = page.get_data(as_text=True)
    assert f"<h1>{heading}</h1>" in body
    assert 'lang="nl"' in body


def test_a_user_without_a_known_role_gets_a_dutch_explanation(app):
    client = app.test_client()
    devidp_login(client, "no-role")
    body = client.get("/ui/audit").get_data(as_text=True)
    assert "geen rol in de gateway" in body


def test_the_login_page_redirects_a_signed_in_user_to_the_next_page(app):
    client = app.test_client()
    devidp_login(client, "privacy-operator")
    response = client.get("/login?next=/ui/audit")
    assert response.status_code == 302
    assert response.headers["Location"] == "/ui/audit"


def test_an_anonymous_visitor_is_sent_to_login_and_back(app):
    client = app.test_client()
    response = client.get("/ui/audit?decision=denied")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Fui%2Faudit%3Fdecision%3Ddenied"
    login = devidp_login(client, "privacy-operator", next_path="/ui/audit?decision=denied")
    assert login.headers["Location"] == "/ui/audit?decision=denied"


def test_logout_ends_the_session_here_and_at_the_idp(app):
    client = app.test_client()
    devidp_login(client, "privacy-operator")
    assert sessions(app) == 1
    page = client.get("/ui/").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 200
    assert sessions(app) == 0
    cleared = [h for h in response.headers.getlist("Set-Cookie") if "gateway_session=;" in h]
    assert cleared
    body = response.get_data(as_text=True)
    idp_url = body.split('href="')[-1].split('"')[0].replace("&amp;", "&")
    assert "/devidp/slo?SAMLRequest=" in idp_url
    back = client.get(idp_url.split("8000", 1)[1])
    assert back.status_code == 302
    slo = client.get(back.headers["Location"].split("8000", 1)[1])
    assert slo.status_code == 200
    assert "Je bent uitgelogd" in slo.get_data(as_text=True)
    assert client.get("/ui/").status_code == 302


def _age_session(app, **changes) -> None:
    with app.extensions["gateway"].db.session() as session:
        session.execute(update(WebSessionRow).values(**changes))


def test_an_idle_session_expires_after_30_minutes(app):
    client = app.test_client()
    devidp_login(client, "privacy-operator")
    assert client.get("/ui/").status_code == 200
    _age_session(app, last_seen_at=datetime.now(UTC) - timedelta(minutes=31))
    assert client.get("/ui/").status_code == 302
    assert sessions(app) == 0


def test_a_session_ends_8_hours_after_login_however_active(app):
    client = app.test_client()
    devidp_login(client, "privacy-operator")
    _age_session(app, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert client.get("/ui/").status_code == 302


def test_the_session_cookie_is_httponly_and_samesite_lax_but_not_secure_in_development(app):
    response = devidp_login(app.test_client(), "privacy-operator")
    cookie = next(h for h in response.headers.getlist("Set-Cookie")
                  if h.startswith("gateway_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie


def test_pages_carry_the_security_headers(app):
    client = app.test_client()
    devidp_login(client, "privacy-operator")
    response = client.get("/ui/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "<script>" not in response.get_data(as_text=True)


def test_the_sp_metadata_names_the_acs_slo_and_signing_certificate(app):
    response = app.test_client().get("/saml/metadata")
    assert response.status_code == 200
    assert response.content_type.startswith("application/samlmetadata+xml")
    xml = response.get_data(as_text=True)
    assert 'Location="http://127.0.0.1:8000/saml/acs"' in xml
    assert "/saml/slo" in xml
    assert 'WantAssertionsSigned="true"' in xml
    assert 'AuthnRequestsSigned="true"' in xml
    assert "X509Certificate" in xml
