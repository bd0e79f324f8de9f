"""Wiring of the re-identification area into the application."""

from __future__ import annotations

from flask import Flask

from pseudonymise import DomainPseudonymiser

from ..audit.log import AuditLog
from ..clock import system_clock
from . import models, openapi  # noqa: F401 - registers the table and the OpenAPI paths
from .service import ReidentificationService
from .views import bp


def init_app(app: Flask) -> None:
    core = app.extensions["gateway"]
    app.extensions["reidentifications"] = ReidentificationService(
        core.db, DomainPseudonymiser(core.keys.keyring), AuditLog(), system_clock
    )
    app.register_blueprint(bp)
