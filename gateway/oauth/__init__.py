"""OAuth 2.0 for partner systems (API.md section 2, issue 3).

An authorization server on authlib (client credentials with ``private_key_jwt``,
``tls_client_auth`` and, in development, ``client_secret_basic``), JWT access tokens signed by
the gateway's rotating keys, introspection and revocation, and the resource protector that
every ``/api/v1`` view uses (:mod:`gateway.oauth.protect`).
"""

from flask import Flask

from . import models  # noqa: F401 - registers the OAuth tables on the shared metadata


def init_app(app: Flask) -> None:
    """Build the OAuth services into ``app.extensions["oauth"]`` and register the views."""
    from . import openapi  # noqa: F401 - registers the OAuth paths in the OpenAPI document
    from .assertions import AssertionVerifier
    from .server import GatewayAuthorizationServer
    from .services import OAuthServices
    from .store import OAuthStore
    from .tokens import TokenService
    from .views import bp

    core = app.extensions["gateway"]
    store = OAuthStore(core.db)
    tokens = TokenService(core.keys, store, core.settings.issuer)
    verifier = AssertionVerifier()
    server = GatewayAuthorizationServer(app, core.settings, store, tokens, verifier)
    app.extensions["oauth"] = OAuthServices(
        settings=core.settings,
        keys=core.keys,
        store=store,
        tokens=tokens,
        verifier=verifier,
        server=server,
    )
    app.register_blueprint(bp)
