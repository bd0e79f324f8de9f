"""Wiring of the signals area into the application."""

from __future__ import annotations

from flask import Flask

from pseudonymise import DomainPseudonymiser

from ..audit.log import AuditLog
from ..clock import system_clock
from ..consents.trail import AuditTrail
from ..exchange.sealing import MessageSealer
from . import (
    models,  # noqa: F401 - registers the tables on Base
    openapi,  # noqa: F401 - registers the paths in the OpenAPI document
)
from .notices import MatchNotifier
from .service import SignalService
from .views import bp


def init_app(app: Flask) -> None:
    core = app.extensions["gateway"]
    pseudonymiser = DomainPseudonymiser(core.keys.keyring)
    audit = AuditLog()
    app.extensions["signals"] = SignalService(
        core.db,
        pseudonymiser,
        MatchNotifier(
            MessageSealer(core.keys.keyring), audit, pseudonymiser, app.extensions["polymorphic"]
        ),
        audit,
        AuditTrail(core.db, audit, pseudonymiser, system_clock, app.extensions["polymorphic"]),
        system_clock,
        core.settings.timezone,
    )
    app.register_blueprint(bp)
