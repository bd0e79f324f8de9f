"""The OAuth area's services, built once per process by :func:`gateway.oauth.init_app`."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from ..config import Settings
from ..keys import KeyStore
from .assertions import AssertionVerifier
from .server import GatewayAuthorizationServer
from .store import OAuthStore
from .tokens import TokenService


@dataclass
class OAuthServices:
    settings: Settings
    keys: KeyStore
    store: OAuthStore
    tokens: TokenService
    verifier: AssertionVerifier
    server: GatewayAuthorizationServer


def oauth() -> OAuthServices:
    return current_app.extensions["oauth"]
