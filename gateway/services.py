"""The typed accessor: how a view reaches the services ``create_app`` built.

``services()`` is the process's :class:`~gateway.composition.Services`; the OAuth
authorization server (an authlib Flask integration, so HTTP-layer itself) has its own
accessor. These two functions and ``create_app`` are the only readers and writers of
``app.extensions`` for the gateway's own objects (``tests/architecture`` checks it).
"""

from __future__ import annotations

from flask import Flask, current_app

from .composition import Services
from .oauth.server import GatewayAuthorizationServer

SERVICES = "gateway"
AUTHORIZATION_SERVER = "gateway.oauth"


def services() -> Services:
    """The services of the application handling the current request."""
    return services_of(current_app)


def services_of(app: Flask) -> Services:
    """The services of ``app`` (outside a request: the CLI, the tests)."""
    return app.extensions[SERVICES]


def gateway_services_of(app) -> Services | None:
    """The services of ``app``, or None for an application ``create_app`` did not build (a
    benchmark's bare endpoint under the same gunicorn settings)."""
    extensions = getattr(app, "extensions", None) or {}
    return extensions.get(SERVICES)


def authorization_server() -> GatewayAuthorizationServer:
    return current_app.extensions[AUTHORIZATION_SERVER]
