"""Form tokens are attacker-chosen text: a non-ASCII one is refused like a wrong one, never a
500 (``hmac.compare_digest`` raises ``TypeError`` on non-ASCII ``str``). Found beside the SAML
browser binding (issue 16), which had the same flaw."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from tests.saml_helpers import devidp_login, forget_logins, gateway_app, sp_flow_start


@pytest.fixture(scope="module")
def dev_app(keys_dir, tmp_path_factory):
    app = gateway_app(tmp_path_factory.mktemp("form-tokens"), keys_dir)
    yield app
    app.extensions["gateway"].db.dispose()


@pytest.fixture
def app(dev_app):
    forget_logins(dev_app)
    return dev_app


def test_a_non_ascii_csrf_token_is_a_400(app):
    client = app.test_client()
    devidp_login(client, "privacy-operator")
    response = client.post("/ui/audit/subject", data={"bsn": "111222333", "csrf_token": "\u00e9"})
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert 'lang="nl"' in response.get_data(as_text=True)


def test_a_non_ascii_development_idp_form_token_is_refused(app):
    client = app.test_client()
    location = sp_flow_start(client)
    parts = urlparse(location)
    html = client.get(parts.path + "?" + parts.query).get_data(as_text=True)
    fields = dict(re.findall(r'name="(SAMLRequest|RelayState|token)" value="([^"]*)"', html))
    fields["token"] = "\u00e9"
    response = client.post("/devidp/sso", data={**fields, "user": "privacy-operator"})
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]
