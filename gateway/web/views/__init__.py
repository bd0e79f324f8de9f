"""The ``web`` blueprint: the Dutch pages under ``/ui/`` (one module per page)."""

from __future__ import annotations

from flask import Blueprint

from .. import errors
from ..context import register_context

bp = Blueprint("web", __name__)
errors.register(bp)
register_context(bp)

from . import (  # noqa: E402 - the page modules add their routes to ``bp``
    audit,
    consents,
    dashboard,
    idps,
    organisations,
    register,
    reidentifications,
    retractions,
)

__all__ = [
    "audit",
    "bp",
    "consents",
    "dashboard",
    "idps",
    "organisations",
    "register",
    "reidentifications",
    "retractions",
]
