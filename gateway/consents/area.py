"""Wiring of the consent registry into the application.

Runs before the exchange area's ``init_app``: that area picks up
``app.extensions["consent_checker"]`` when it builds its pipeline.
"""

from __future__ import annotations

from flask import Flask

from consent.service import ConsentService
from consent.subjects import DomainSubjects
from pseudonymise import DomainPseudonymiser

from ..audit.log import AuditLog
from ..clock import system_clock
from . import (
    models,  # noqa: F401 - registers the tables on Base
    openapi,  # noqa: F401 - registers the paths in the OpenAPI document
)
from .api import ConsentApi
from .checker import CountingConsentChecker
from .knowledge import AuditKnowledge, SqlExchangeRecord
from .receipts import KeyStoreReceiptSigner
from .sealing import ConsentSealer
from .store import SqlConsentStore
from .trail import AuditTrail
from .views import bp


def build_service(core, pseudonymiser: DomainPseudonymiser, clock=system_clock) -> ConsentService:
    """The registry over ``core`` (the app's :class:`~gateway.services.Services`)."""
    store = SqlConsentStore(core.db, ConsentSealer(core.keys.keyring), AuditLog(), pseudonymiser)
    return ConsentService(
        store,
        KeyStoreReceiptSigner(core.keys),
        DomainSubjects(pseudonymiser, "consent"),
        clock,
        core.settings.issuer,
        core.settings.timezone,
        knowledge=AuditKnowledge(core.db, pseudonymiser),
        exchanges=SqlExchangeRecord(core.db),
    )


def init_app(app: Flask) -> None:
    core = app.extensions["gateway"]
    pseudonymiser = DomainPseudonymiser(core.keys.keyring)
    service = build_service(core, pseudonymiser)
    trail = AuditTrail(
        core.db, AuditLog(), pseudonymiser, system_clock, app.extensions["polymorphic"]
    )
    app.extensions["consents"] = ConsentApi(service, trail, system_clock, core.settings.timezone)
    app.extensions["consent_checker"] = CountingConsentChecker(service)
    app.register_blueprint(bp)
