"""``/.well-known/oauth-authorization-server`` (RFC 8414), ``/oauth/jwks`` and the OpenAPI paths."""

import pytest
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from openapi_spec_validator import validate

from gateway import create_app
from gateway.config import Settings
from tests.oauth_helpers import PRODUCTION_RATE_LIMIT_STORAGE


def validate_rfc_8414(metadata: dict) -> None:
    """authlib's RFC 8414 checks, except that ``response_types_supported`` may be empty.

    The member is REQUIRED; this server has no authorization endpoint, so the truthful list
    of response types it supports is the empty one.
    """
    assert metadata["response_types_supported"] == []
    AuthorizationServerMetadata({**metadata, "response_types_supported": ["code"]}).validate()


@pytest.fixture
def client(settings):
    app = create_app(settings)
    yield app.test_client()
    app.extensions["gateway"].db.dispose()


def test_metadata_is_valid_rfc_8414(client, settings):
    response = client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    metadata = response.json
    validate_rfc_8414(metadata)
    issuer = settings.issuer
    assert metadata["issuer"] == issuer and not issuer.endswith("/")
    assert metadata["token_endpoint"] == f"{issuer}/oauth/token"
    assert metadata["jwks_uri"] == f"{issuer}/oauth/jwks"
    assert metadata["introspection_endpoint"] == f"{issuer}/oauth/introspect"
    assert metadata["revocation_endpoint"] == f"{issuer}/oauth/revoke"
    assert metadata["grant_types_supported"] == ["client_credentials"]
    assert metadata["token_endpoint_auth_methods_supported"] == [
        "private_key_jwt",
        "tls_client_auth",
        "client_secret_basic",
    ]
    assert metadata["token_endpoint_auth_signing_alg_values_supported"] == [
        "ES256",
        "PS256",
        "RS256",
        "EdDSA",
    ]
    assert metadata["tls_client_certificate_bound_access_tokens"] is True


def test_production_does_not_offer_client_secrets(settings):
    production = Settings(
        env="production",
        database_url=settings.database_url,
        keys_dir=settings.keys_dir,
        base_url="https://gateway.example.nl",
        metrics_token="token",
        rate_limit_storage=PRODUCTION_RATE_LIMIT_STORAGE,
    )
    app = create_app(production)
    metadata = app.test_client().get("/.well-known/oauth-authorization-server").json
    app.extensions["gateway"].db.dispose()
    validate_rfc_8414(metadata)
    assert metadata["issuer"] == "https://gateway.example.nl"
    for key in (
        "token_endpoint_auth_methods_supported",
        "introspection_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_methods_supported",
    ):
        assert metadata[key] == ["private_key_jwt", "tls_client_auth"]


def test_jwks_holds_public_keys_only_with_unique_kids(client, settings):
    jwks = client.get("/oauth/jwks").json
    kids = [key["kid"] for key in jwks["keys"]]
    assert kids and len(kids) == len(set(kids))
    for key in jwks["keys"]:
        assert not {"d", "p", "q", "dp", "dq", "qi", "k"} & set(key)
        assert key["kty"] == "EC" and key["alg"] == "ES256" and key["use"] == "sig"


def test_openapi_documents_the_oauth_paths(client):
    document = client.get("/api/v1/openapi.json").json
    validate(document)
    for path in (
        "/oauth/token",
        "/oauth/introspect",
        "/oauth/revoke",
        "/oauth/jwks",
        "/.well-known/oauth-authorization-server",
        "/api/v1/me",
    ):
        assert path in document["paths"], path
    token = document["paths"]["/oauth/token"]["post"]
    assert "application/x-www-form-urlencoded" in token["requestBody"]["content"]


def test_get_on_the_token_endpoint_is_refused(client):
    assert client.get("/oauth/token").status_code == 405
