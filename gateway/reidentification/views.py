"""``/api/v1/reidentifications``: thin handlers over :class:`ReidentificationService`."""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from ..api.refusals import Refusals
from ..audit.actors import Actor
from ..oauth.protect import current_caller, require_scope
from ..ratelimit import rate_limited
from ..services import services
from .service import ReidentificationService

bp = Blueprint("reidentifications", __name__)


def service() -> ReidentificationService:
    return services().reidentifications


REFUSALS = Refusals.by_actor(service)
"""A step refused before the service runs is audited like its own refusals."""


@bp.post("/api/v1/reidentifications")
@require_scope("reidentify:request", on_refused=REFUSALS.on_refused("reidentification.request"))
@rate_limited
def request_reidentification():
    caller = current_caller()
    body = REFUSALS.body("reidentification.request", caller)
    return jsonify(service().request(Actor.from_caller(caller), body, g.fsc_transaction_id)), 202


@bp.get("/api/v1/reidentifications/<request_id>")
@require_scope("reidentify:request", on_refused=REFUSALS.on_refused("reidentification.read"))
@rate_limited
def read(request_id: str):
    # the Fsc-Transaction-Id was checked (and a refusal audited) by require_scope
    actor = Actor.from_caller(current_caller())
    return jsonify(service().read(actor, request_id, g.fsc_transaction_id))


def _decision(verb: str):
    """The approve and refuse steps: one shape, each its own action, scope hook and service
    method. The view is named before the decorators wrap it, so the rate limiter and the
    endpoint (``reidentifications.approve``) see the step's own name."""
    action = f"reidentification.{verb}"

    def decide(request_id: str):
        caller = current_caller()
        body = REFUSALS.body(action, caller, optional=True)
        step = getattr(service(), verb)
        return jsonify(step(Actor.from_caller(caller), request_id, body, g.fsc_transaction_id))

    decide.__name__ = decide.__qualname__ = verb
    protected = require_scope("reidentify:approve", on_refused=REFUSALS.on_refused(action))
    return protected(rate_limited(decide))


approve = bp.post("/api/v1/reidentifications/<request_id>/approve")(_decision("approve"))
refuse = bp.post("/api/v1/reidentifications/<request_id>/refuse")(_decision("refuse"))
