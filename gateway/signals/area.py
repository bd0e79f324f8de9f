"""Wiring of the signals area into the application."""

from __future__ import annotations

from flask import Flask

from pseudonymise import DomainPseudonymiser

from .. import metrics
from ..audit.log import AuditLog
from ..clock import system_clock
from ..consents.trail import AuditTrail
from ..exchange.sealing import MessageSealer
from . import (
    models,  # noqa: F401 - registers the tables on Base
    openapi,  # noqa: F401 - registers the paths in the OpenAPI document
)
from .notices import MatchNotifier
from .policy import load_signal_policy
from .service import SignalService
from .views import bp


def init_app(app: Flask) -> None:
    core = app.extensions["gateway"]
    pseudonymiser = DomainPseudonymiser(core.keys.keyring)
    audit = AuditLog()
    policy = load_signal_policy()
    for org_type in policy.organisation_types:
        # the probe series exist from the start at 0, so the alert sees the first increase
        metrics.SIGNAL_PROBES.labels(org_type=org_type)
    app.extensions["signals"] = SignalService(
        core.db,
        pseudonymiser,
        MatchNotifier(
            MessageSealer(core.keys.keyring),
            audit,
            pseudonymiser,
            app.extensions["polymorphic"],
            policy,
        ),
        audit,
        AuditTrail(core.db, audit, pseudonymiser, system_clock, app.extensions["polymorphic"]),
        system_clock,
        core.settings.timezone,
    )
    app.register_blueprint(bp)
