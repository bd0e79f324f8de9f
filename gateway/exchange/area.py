"""Wiring of the exchange area into the application."""

from __future__ import annotations

from flask import Flask

from consent.interfaces import NoConsentRegistry
from pseudonymise import DomainPseudonymiser

from .. import metrics
from ..audit.log import AuditLog
from ..clock import system_clock
from . import models, openapi  # noqa: F401 - registers the tables and the OpenAPI paths
from .sealing import MessageSealer
from .service import ExchangeService
from .views import bp


def init_app(app: Flask) -> None:
    core = app.extensions["gateway"]
    pseudonymiser = DomainPseudonymiser(core.keys.keyring)
    consent = app.extensions.get("consent_checker") or NoConsentRegistry()
    app.extensions["pseudonymiser"] = pseudonymiser
    app.extensions["audit_log"] = AuditLog()
    app.extensions["exchanges"] = ExchangeService(
        core.db,
        pseudonymiser,
        consent,
        MessageSealer(core.keys.keyring),
        app.extensions["audit_log"],
        system_clock,
        core.settings.timezone,
        app.extensions["polymorphic"],
    )
    for result in metrics.DELIVERY_RESULTS:
        # API.md section 11 names this series: it exists from the start at 0 (with no worker
        # running, or before the first push), so dashboards and alerts see its first increase
        metrics.DELIVERIES.labels(result)
    app.register_blueprint(bp)
