"""``/api/v1/signals``: thin handlers over :class:`SignalService` (API.md section 6)."""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from ..api.refusals import Refusals
from ..oauth.protect import current_caller, require_scope
from ..ratelimit import signal_rate_limited
from ..services import services
from .service import SignalService

bp = Blueprint("signals", __name__)


def service() -> SignalService:
    return services().signals


REFUSALS = Refusals(
    lambda action, caller, code, fsc: service().trail.deny(
        action, caller, code, fsc_transaction_id=fsc
    )
)
"""Refusals before the service runs are audited like its own (its ``trail.deny``)."""


@bp.post("/api/v1/signals")
@require_scope("signal:write", on_refused=REFUSALS.on_refused("signal.create"))
@signal_rate_limited
def create():
    caller = current_caller()
    service().authorise(caller, g.fsc_transaction_id)
    body = REFUSALS.body("signal.create", caller)
    return jsonify(service().create(caller, body, g.fsc_transaction_id)), 201


@bp.post("/api/v1/signals/<signal_id>/close")
@require_scope("signal:write", on_refused=REFUSALS.on_refused("signal.close"))
@signal_rate_limited
def close(signal_id: str):
    caller = current_caller()
    REFUSALS.body("signal.close", caller, optional=True)
    return jsonify(service().close(caller, signal_id, g.fsc_transaction_id))
