"""CSRF tokens on every POST form, and ``RelayState`` honoured only as a local path."""

from __future__ import annotations

import re

import pytest

from tests.saml_helpers import devidp_login, forget_logins, gateway_app

FORMS = [
    ("privacy-operator", "/ui/consents", {"bsn": "111222333"}),
    ("privacy-operator", "/ui/audit/subject", {"bsn": "111222333"}),
    ("privacy-operator", "/ui/reidentifications/00000000-0000-0000-0000-000000000000/approve", {}),
    ("privacy-operator", "/ui/consents/00000000-0000-0000-0000-000000000000/withdraw",
     {"role": "parent", "reason": "x"}),
    ("admin-operator", "/ui/organisations",
     {"oin": "00000001009999999000", "name": "X", "type": "school"}),
    ("admin-operator", "/ui/organisations/00000001002345678000/status", {"status": "suspended"}),
    ("admin-operator", "/ui/clients", {"oin": "00000001002345678000", "client_id": "c"}),
    ("admin-operator", "/ui/clients/any/rotate", {"auth": "tls_client_auth"}),
    ("admin-operator", "/logout", {}),
]


@pytest.fixture(scope="module")
def dev_app(keys_dir, tmp_path_factory):
    app = gateway_app(tmp_path_factory.mktemp("web-csrf"), keys_dir)
    yield app
    app.extensions["gateway"].db.dispose()


@pytest.fixture
def app(dev_app):
    forget_logins(dev_app)
    return dev_app


def csrf_token(client) -> str:
    page = client.get("/ui/").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.mark.parametrize(("user", "path", "data"), FORMS, ids=[f[1] for f in FORMS])
@pytest.mark.parametrize("token", ["missing", "wrong"])
def test_a_post_without_a_valid_token_is_a_400(app, user, path, data, token):
    client = app.test_client()
    devidp_login(client, user)
    if token == "wrong":
        data = {**data, "csrf_token": "x" * 43}
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert "Formulier niet geldig" in response.get_data(as_text=True)
    assert client.get("/ui/").status_code == 200, "the session survives"


def test_the_token_of_another_session_is_refused(app):
    first, second = app.test_client(), app.test_client()
    devidp_login(first, "admin-operator")
    devidp_login(second, "admin-operator")
    response = second.post("/ui/organisations/00000001002345678000/status",
                           data={"csrf_token": csrf_token(first), "status": "suspended"})
    assert response.status_code == 400


def test_a_post_with_the_sessions_token_goes_through(app):
    client = app.test_client()
    devidp_login(client, "admin-operator")
    response = client.post("/ui/organisations/00000001002345678000/status",
                           data={"csrf_token": csrf_token(client), "status": "active"})
    assert response.status_code == 303


def test_a_post_without_a_session_is_a_400_not_a_login_redirect(app):
    response = app.test_client().post("/ui/consents", data={"bsn": "111222333"})
    assert response.status_code == 400


def test_every_post_form_on_every_page_carries_the_token(app):
    pages = {"privacy-operator": ["/ui/", "/ui/audit", "/ui/audit/subject", "/ui/consents",
                                  "/ui/reidentifications"],
             "admin-operator": ["/ui/", "/ui/organisations"]}
    for user, paths in pages.items():
        client = app.test_client()
        devidp_login(client, user)
        token = csrf_token(client)
        for path in paths:
            html = client.get(path).get_data(as_text=True)
            forms = re.findall(r"<form[^>]*>.*?</form>", html, flags=re.S)
            posts = [f for f in forms if 'method="post"' in f]
            assert posts, path
            for form in posts:
                assert f'name="csrf_token" value="{token}"' in form, (path, form[:200])


@pytest.mark.parametrize(
    ("relay_state", "landing"),
    [
        ("/ui/audit", "/ui/audit"),
        ("/ui/audit?decision=denied", "/ui/audit?decision=denied"),
        ("//evil.example/ui/", "/ui/"),
        ("https://evil.example/", "/ui/"),
        ("/\\evil.example", "/ui/"),
        ("javascript:alert(1)", "/ui/"),
        ("ui/audit", "/ui/"),
        ("", "/ui/"),
    ],
)
def test_relay_state_is_honoured_only_as_a_local_path(app, relay_state, landing):
    client = app.test_client()
    response = devidp_login(client, "privacy-operator", next_path=relay_state or None)
    assert response.status_code == 303
    assert response.headers["Location"] == landing


def test_a_relay_state_changed_on_the_way_back_is_still_checked(app):
    client = app.test_client()
    location = client.get("/login?next=/ui/audit").headers["Location"]
    from urllib.parse import urlparse

    parts = urlparse(location)
    html = client.get(parts.path + "?" + parts.query).get_data(as_text=True)
    fields = dict(re.findall(r'name="(SAMLRequest|token)" value="([^"]*)"', html))
    fields["RelayState"] = "/ui/audit"
    answer = client.post("/devidp/sso", data={**fields, "user": "privacy-operator"})
    html = answer.get_data(as_text=True)
    saml_response = re.search(r'name="SAMLResponse" value="([^"]*)"', html).group(1)
    response = client.post("/saml/acs", data={"SAMLResponse": saml_response,
                                              "RelayState": "https://evil.example/"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/ui/audit"
