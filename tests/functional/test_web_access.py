"""Who reaches which page (API.md section 10), through real logins at the development IdP.

``privacy_officer``: ``/ui/``, ``/ui/audit``, ``/ui/audit/subject``, ``/ui/consents`` and, for
the operator organisation only, ``/ui/reidentifications``; ``admin``: ``/ui/`` and
``/ui/organisations``; anything else is a 403 page in Dutch, and so is every page for a user
without a known role.
"""

from __future__ import annotations

import pytest

from tests.saml_helpers import devidp_login, gateway_app

PAGES = ["/ui/", "/ui/audit", "/ui/audit/subject", "/ui/consents", "/ui/reidentifications",
         "/ui/organisations", "/ui/audit/export?format=csv"]
ALLOWED = {
    "privacy-operator": {"/ui/", "/ui/audit", "/ui/audit/subject", "/ui/consents",
                         "/ui/reidentifications", "/ui/audit/export?format=csv"},
    "privacy-school": {"/ui/", "/ui/audit", "/ui/audit/subject", "/ui/consents",
                       "/ui/audit/export?format=csv"},
    "admin-operator": {"/ui/", "/ui/organisations"},
    "no-role": set(),
}


@pytest.fixture(scope="module")
def clients(keys_dir, tmp_path_factory):
    app = gateway_app(tmp_path_factory.mktemp("web-access"), keys_dir)
    signed_in = {}
    for user in ALLOWED:
        client = app.test_client()
        assert devidp_login(client, user).status_code == 303
        signed_in[user] = client
    signed_in["anonymous"] = app.test_client()
    yield signed_in
    app.extensions["gateway"].db.dispose()


@pytest.mark.parametrize("user", list(ALLOWED))
@pytest.mark.parametrize("page", PAGES)
def test_access_matrix(clients, user, page):
    response = clients[user].get(page)
    if page in ALLOWED[user]:
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
    else:
        assert response.status_code == 403
        body = response.get_data(as_text=True)
        assert "<h1>Geen toegang</h1>" in body
        assert 'lang="nl"' in body


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_visitors_are_sent_to_login(clients, page):
    response = clients["anonymous"].get(page)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_the_navigation_shows_only_reachable_pages(clients):
    school = clients["privacy-school"].get("/ui/").get_data(as_text=True)
    assert 'href="/ui/audit"' in school
    assert 'href="/ui/reidentifications"' not in school
    assert 'href="/ui/organisations"' not in school
    admin = clients["admin-operator"].get("/ui/").get_data(as_text=True)
    assert 'href="/ui/organisations"' in admin
    assert 'href="/ui/audit"' not in admin


def test_reidentifications_explain_that_only_the_operator_decides(clients):
    body = clients["privacy-school"].get("/ui/reidentifications").get_data(as_text=True)
    assert "beheerorganisatie" in body


def test_posts_are_guarded_like_pages(clients):
    """A role that may not open a page may not post to it either (its CSRF token is valid)."""
    school = clients["privacy-school"]
    page = school.get("/ui/").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = school.post("/ui/organisations/00000001002345678000/status",
                           data={"csrf_token": token, "status": "suspended"})
    assert response.status_code == 403
