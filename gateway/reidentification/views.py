"""``/api/v1/reidentifications``: thin handlers over :class:`ReidentificationService`."""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from ..api.request import check_transaction_id, json_body
from ..audit.actors import Actor
from ..oauth.protect import current_caller, require_scope
from ..problems import GatewayError
from ..ratelimit import rate_limited
from ..services import services
from .service import ReidentificationService

bp = Blueprint("reidentifications", __name__)


def service() -> ReidentificationService:
    return services().reidentifications


def refused(action: str):
    """An ``on_refused`` hook: a step without its scope is a denied ``action``."""

    def hook(caller, code: str) -> None:
        service().deny(action, Actor.from_caller(caller), code, g.fsc_transaction_id)

    return hook


def body_for(action: str, actor: Actor, *, optional: bool = False) -> dict:
    """The strict JSON body; content type, size and JSON refusals are audited too."""
    try:
        return json_body(optional=optional)
    except GatewayError as error:
        service().deny(action, actor, error.code, g.fsc_transaction_id)
        raise


@bp.post("/api/v1/reidentifications")
@require_scope("reidentify:request", on_refused=refused("reidentification.request"))
@rate_limited
def request_reidentification():
    actor = Actor.from_caller(current_caller())
    body = body_for("reidentification.request", actor)
    return jsonify(service().request(actor, body, g.fsc_transaction_id)), 202


@bp.get("/api/v1/reidentifications/<request_id>")
@require_scope("reidentify:request", on_refused=refused("reidentification.read"))
@rate_limited
def read(request_id: str):
    actor = Actor.from_caller(current_caller())
    try:
        check_transaction_id()
    except GatewayError as error:
        service().deny("reidentification.read", actor, error.code, g.fsc_transaction_id)
        raise
    return jsonify(service().read(actor, request_id, g.fsc_transaction_id))


@bp.post("/api/v1/reidentifications/<request_id>/approve")
@require_scope("reidentify:approve", on_refused=refused("reidentification.approve"))
@rate_limited
def approve(request_id: str):
    actor = Actor.from_caller(current_caller())
    body = body_for("reidentification.approve", actor, optional=True)
    return jsonify(service().approve(actor, request_id, body, g.fsc_transaction_id))


@bp.post("/api/v1/reidentifications/<request_id>/refuse")
@require_scope("reidentify:approve", on_refused=refused("reidentification.refuse"))
@rate_limited
def refuse(request_id: str):
    actor = Actor.from_caller(current_caller())
    body = body_for("reidentification.refuse", actor, optional=True)
    return jsonify(service().refuse(actor, request_id, body, g.fsc_transaction_id))
