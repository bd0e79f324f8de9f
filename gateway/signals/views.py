"""``/api/v1/signals``: thin handlers over :class:`SignalService` (API.md section 6)."""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from ..api.request import json_body
from ..oauth.protect import current_caller, require_scope
from ..problems import GatewayError
from ..ratelimit import signal_rate_limited
from ..services import services
from .service import SignalService

bp = Blueprint("signals", __name__)


def service() -> SignalService:
    return services().signals


def audit_scope(action: str):
    def refused(caller, code: str) -> None:
        service().trail.deny(action, caller, code, fsc_transaction_id=g.fsc_transaction_id)

    return refused


def body_for(action: str, caller, *, optional: bool = False) -> dict:
    """The strict JSON body; content type, size and JSON refusals are audited too."""
    try:
        return json_body(optional=optional)
    except GatewayError as error:
        service().trail.deny(action, caller, error.code, fsc_transaction_id=g.fsc_transaction_id)
        raise


@bp.post("/api/v1/signals")
@require_scope("signal:write", on_refused=audit_scope("signal.create"))
@signal_rate_limited
def create():
    caller = current_caller()
    service().authorise(caller, g.fsc_transaction_id)
    body = body_for("signal.create", caller)
    return jsonify(service().create(caller, body, g.fsc_transaction_id)), 201


@bp.post("/api/v1/signals/<signal_id>/close")
@require_scope("signal:write", on_refused=audit_scope("signal.close"))
@signal_rate_limited
def close(signal_id: str):
    caller = current_caller()
    body_for("signal.close", caller, optional=True)
    return jsonify(service().close(caller, signal_id, g.fsc_transaction_id))
