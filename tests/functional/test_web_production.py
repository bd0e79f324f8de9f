"""The web interface in production: Secure ``__Host-`` cookies, HSTS, no development IdP,
a Dutch "not configured" page without a ``saml`` block, and the SAML configuration sources
(bootstrap block, ``GATEWAY_SAML_IDP_METADATA``)."""

from __future__ import annotations

import pytest

from gateway.bootstrap import BootstrapError, read_bootstrap
from gateway.config import ConfigurationError, Settings
from gateway.saml.credentials import service_provider_keys
from tests.saml_helpers import (
    SCHOOL_OFFICER,
    TestIdp,
    bootstrap_file,
    gateway_app,
    login,
    session_cookie,
)

PRODUCTION = {"env": "production", "base_url": "https://gateway.test",
              "metrics_token": "metrics-token-for-tests"}
if "rate_limit_storage" in Settings.__dataclass_fields__:  # production needs a shared store
    PRODUCTION["rate_limit_storage"] = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="module")
def idp(tmp_path_factory) -> TestIdp:
    return TestIdp(tmp_path_factory.mktemp("prod-idp"))


@pytest.fixture(scope="module")
def production_app(keys_dir, idp, tmp_path_factory):
    service_provider_keys(keys_dir, allow_generate=True)  # provisioned, as production needs
    app = gateway_app(tmp_path_factory.mktemp("web-prod"), keys_dir, idp.metadata(),
                      **PRODUCTION)
    idp.bind(app.test_client().get("/saml/metadata").get_data(as_text=True))
    yield app
    app.extensions["gateway"].db.dispose()


def test_production_cookies_are_secure_host_cookies(production_app, idp):
    client = production_app.test_client()
    response = login(client, idp, SCHOOL_OFFICER)
    assert response.status_code == 303
    cookie = next(h for h in response.headers.getlist("Set-Cookie")
                  if h.startswith("__Host-gateway_session="))
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in cookie
    assert "Domain" not in cookie
    assert session_cookie(response)


def test_production_pages_carry_hsts(production_app, idp):
    client = production_app.test_client()
    login(client, idp, SCHOOL_OFFICER)
    response = client.get("/ui/", base_url="https://localhost")
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_production_has_no_development_idp(production_app):
    client = production_app.test_client()
    assert client.get("/devidp/sso").status_code == 404
    assert client.get("/devidp/metadata").status_code == 404
    assert production_app.extensions["gateway"].saml.development_idp is None


def test_login_redirects_to_the_configured_idp(production_app, idp):
    response = production_app.test_client().get("/login")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(idp.SSO_URL + "?SAMLRequest=")
    assert "SigAlg=" in response.headers["Location"], "AuthnRequests are signed"


def test_without_saml_configuration_login_explains_in_dutch(keys_dir, tmp_path):
    app = gateway_app(tmp_path, keys_dir, None, **PRODUCTION)
    try:
        response = app.test_client().get("/login")
    finally:
        app.extensions["gateway"].db.dispose()
    assert response.status_code == 503
    body = response.get_data(as_text=True)
    assert "niet ingericht" in body
    assert 'lang="nl"' in body


def test_production_refuses_to_start_without_the_sp_key_pair(tmp_path, keys_dir, idp):
    import shutil

    keys = tmp_path / "keys"
    shutil.copytree(keys_dir, keys, ignore=shutil.ignore_patterns("saml"))
    with pytest.raises(ConfigurationError, match="saml/sp.key"):
        gateway_app(tmp_path / "db", keys, idp.metadata(), **PRODUCTION)


def test_the_environment_overrides_the_stored_idp_metadata(keys_dir, tmp_path, idp):
    other = TestIdp(tmp_path / "other-idp")
    override = tmp_path / "override.xml"
    override.write_text(other.metadata().replace(TestIdp.SSO_URL, "https://other-idp.example/sso"))
    app = gateway_app(tmp_path / "db", keys_dir, idp.metadata(),
                      saml_idp_metadata=str(override))
    try:
        location = app.test_client().get("/login").headers["Location"]
    finally:
        app.extensions["gateway"].db.dispose()
    assert location.startswith("https://other-idp.example/sso?")


def test_the_environment_alone_configures_saml_in_production(keys_dir, tmp_path, idp):
    metadata = tmp_path / "idp.xml"
    metadata.write_text(idp.metadata())
    app = gateway_app(tmp_path / "db", keys_dir, None, saml_idp_metadata=str(metadata),
                      **PRODUCTION)
    try:
        response = app.test_client().get("/login")
    finally:
        app.extensions["gateway"].db.dispose()
    assert response.headers["Location"].startswith(idp.SSO_URL)


def test_a_stored_saml_block_replaces_the_development_idp(keys_dir, tmp_path, idp):
    app = gateway_app(tmp_path, keys_dir, idp.metadata())
    try:
        location = app.test_client().get("/login").headers["Location"]
    finally:
        app.extensions["gateway"].db.dispose()
    assert location.startswith(idp.SSO_URL)


def test_bootstrap_refuses_a_bad_saml_block_naming_lines(tmp_path, idp):
    path = bootstrap_file(tmp_path, idp.metadata(), saml_extra=(
        "roles: {privacy_officer: [], auditor: [x]}\n"
        "attributes: {role: 5}\n"
        "colour: blue\n"
    ))
    with pytest.raises(BootstrapError) as refused:
        read_bootstrap(path, production=False)
    problems = "\n".join(refused.value.problems)
    assert "saml.roles.privacy_officer: must be a non-empty list" in problems
    assert "saml.roles.auditor: unknown role" in problems
    assert "saml.attributes.role: must be an attribute name" in problems
    assert "saml.colour: unknown key" in problems
    assert "bootstrap.yaml:" in problems


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ('<!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>', "not well-formed"),
        ('<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>',
         "exactly one identity provider"),
    ],
)
def test_bootstrap_refuses_unusable_idp_metadata(tmp_path, metadata, message):
    path = bootstrap_file(tmp_path, metadata)
    with pytest.raises(BootstrapError, match=message):
        read_bootstrap(path, production=False)


def test_bootstrap_stores_the_saml_block_once(tmp_path, keys_dir, idp, settings):
    from tests.saml_helpers import apply_file

    path = bootstrap_file(tmp_path, idp.metadata())
    first = apply_file(settings.database_url, path)
    second = apply_file(settings.database_url, path)
    assert "saml configuration" in first.created
    assert "saml configuration" in second.unchanged
    assert not second.changed
