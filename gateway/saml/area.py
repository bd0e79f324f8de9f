"""Wiring of the SAML service provider (and, in development, the built-in IdP).

Production with a stored ``saml`` configuration but without the SP key pair refuses to start,
naming the files, like every other missing production key: an SP that cannot sign its
requests or publish its certificate cannot be registered at an IdP.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from ..clock import system_clock
from . import models  # noqa: F401 - registers the tables on Base
from .provider import ServiceProvider
from .views import bp


def build_provider(core) -> ServiceProvider:
    settings = core.settings
    provider = ServiceProvider(settings, core.db, clock=system_clock)
    if not settings.is_production:
        from .devidp.idp import DevelopmentIdp

        provider.development_idp = DevelopmentIdp(
            settings.base_url,
            settings.keys_dir,
            provider.metadata,
            core.keys.keyring.derive("web:devidp-form"),
        )
        provider.development_setup = provider.development_idp.setup
    else:
        provider.development_idp = None
        try:
            configured = provider.store.load() is not None
        except (SQLAlchemyError, ValueError):
            configured = False  # readiness and /login report it; startup checks the schema
        if configured:
            provider.keys()  # ConfigurationError names the missing files
    return provider


def init_app(app: Flask) -> None:
    app.extensions["saml"] = build_provider(app.extensions["gateway"])
    app.register_blueprint(bp)
    if app.extensions["saml"].development_idp is not None:
        from .devidp.views import bp as devidp_bp

        app.register_blueprint(devidp_bp)
