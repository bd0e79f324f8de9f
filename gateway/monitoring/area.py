"""Wiring of the monitoring area."""

from __future__ import annotations

from flask import Flask

from ..clock import system_clock
from . import models, openapi  # noqa: F401 - tables and OpenAPI paths
from .config import load_monitoring_config
from .service import MonitoringService
from .views import bp


def init_app(app: Flask) -> None:
    core = app.extensions["gateway"]
    app.extensions["monitoring"] = MonitoringService(
        core.db, load_monitoring_config(), system_clock, core.settings.timezone
    )
    app.register_blueprint(bp)
