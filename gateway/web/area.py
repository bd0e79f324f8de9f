"""Wiring of the Dutch web interface (API.md section 10): sessions, services, pages.

Runs after the SAML area (the login views need the session store) and after the API areas
whose services the pages call (consents, monitoring, audit, re-identification), picking each
up from ``app.extensions`` when it is there.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from ..clock import system_clock
from . import models  # noqa: F401 - registers the tables on Base
from .sessions import SessionStore
from .stats import ExchangeStats
from .trail import WebTrail


@dataclass
class WebServices:
    sessions: SessionStore
    trail: WebTrail
    stats: ExchangeStats


def init_app(app: Flask) -> None:
    from .views import bp

    core = app.extensions["gateway"]
    app.extensions["web"] = WebServices(
        sessions=SessionStore(core.db, system_clock),
        trail=WebTrail(core.db, system_clock),
        stats=ExchangeStats(core.db, system_clock, core.settings.timezone),
    )
    app.register_blueprint(bp)
