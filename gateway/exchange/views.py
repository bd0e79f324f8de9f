"""``/api/v1/exchanges`` and ``/api/v1/inbox``: thin handlers over :class:`ExchangeService`.

A refusal is a :class:`~gateway.problems.GatewayError`: the one error handler answers it.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from ..api.paging import limit_parameter
from ..api.request import json_body
from ..oauth.protect import current_caller, require_scope
from ..ratelimit import rate_limited
from ..services import services

bp = Blueprint("exchanges", __name__)


def service():
    return services().exchanges


@bp.post("/api/v1/exchanges")
@require_scope()  # any valid token: the scope is step 2 of the send, audited with the rest
@rate_limited
def send():
    answer = service().send(
        current_caller(), json_body, request.headers.get("Idempotency-Key"), g.fsc_transaction_id
    )
    return jsonify(answer), 202


@bp.get("/api/v1/exchanges/<exchange_id>")
@require_scope("exchange:send", "exchange:receive", any_of=True)
@rate_limited
def status(exchange_id: str):
    return jsonify(service().status(current_caller(), exchange_id))


@bp.get("/api/v1/inbox")
@require_scope("exchange:receive")
@rate_limited
def inbox():
    page = service().inbox(current_caller(), request.args.get("cursor"), limit_parameter())
    return jsonify(page)


@bp.post("/api/v1/inbox/<exchange_id>/ack")
@require_scope("exchange:receive")
@rate_limited
def ack(exchange_id: str):
    json_body(optional=True)
    return jsonify(service().ack(current_caller(), exchange_id))


def retractions():
    return services().retractions


@bp.post("/api/v1/exchanges/<exchange_id>/retract")
@require_scope("exchange:send")
@rate_limited
def retract(exchange_id: str):
    """The sender retracts its exchange (issue 19): 201 the first time, 200 after."""
    answer, created = retractions().retract(current_caller(), exchange_id, json_body())
    return jsonify(answer), 201 if created else 200


@bp.get("/api/v1/exchanges/<exchange_id>/retraction")
@require_scope("exchange:send", "exchange:receive", any_of=True)
@rate_limited
def retraction(exchange_id: str):
    return jsonify(retractions().get(current_caller(), exchange_id))


@bp.post("/api/v1/exchanges/<exchange_id>/retraction/confirm")
@require_scope("exchange:receive")
@rate_limited
def confirm_retraction(exchange_id: str):
    """The recipient confirms it erased its copy of a retracted exchange."""
    json_body(optional=True)
    return jsonify(retractions().confirm(current_caller(), exchange_id))
