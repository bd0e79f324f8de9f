"""Wiring of the audit area: the checkpointer every append of this application uses, the
audit service and its blueprint."""

from __future__ import annotations

from flask import Flask

from pseudonymise import DomainPseudonymiser

from ..clock import system_clock
from ..config import Settings
from ..keys import KeyStore
from . import models, openapi  # noqa: F401 - registers the tables and the OpenAPI paths
from .checkpoints import Checkpointer, origin_for
from .log import AuditLog
from .note import NoteSigner
from .service import AuditService
from .views import bp


def build_checkpointer(keys: KeyStore, settings: Settings) -> Checkpointer:
    """The checkpointer of one process: the audit key from the key store, named after the
    gateway's base URL (the checkpoint origin)."""
    return Checkpointer(NoteSigner(keys.audit_key, origin_for(settings.base_url)))


def build_service(core, checkpointer: Checkpointer | None = None, polymorphic=None) -> AuditService:
    """The audit service over ``core`` (the app's :class:`~gateway.services.Services`)."""
    checkpointer = checkpointer or build_checkpointer(core.keys, core.settings)
    return AuditService(
        core.db,
        DomainPseudonymiser(core.keys.keyring),
        checkpointer,
        system_clock,
        AuditLog(checkpointer),
        polymorphic,
    )


def init_app(app: Flask) -> None:
    core = app.extensions["gateway"]
    checkpointer = build_checkpointer(core.keys, core.settings)
    # every AuditLog().append in a request of this app signs checkpoints with it
    app.extensions["audit_checkpointer"] = checkpointer
    app.extensions["audit"] = build_service(core, checkpointer, app.extensions["polymorphic"])
    app.register_blueprint(bp)
