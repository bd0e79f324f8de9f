"""``/api/v1/consents``: thin handlers over :class:`ConsentApi` (API.md section 5)."""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from ..api.request import json_body
from ..oauth.protect import current_caller, require_scope
from ..problems import GatewayError
from ..ratelimit import rate_limited
from ..services import services
from .api import ConsentApi

bp = Blueprint("consents", __name__)


def api() -> ConsentApi:
    return services().consents


def audit_scope(action: str):
    """An ``on_refused`` hook: a request without the scope is a denied ``action``."""

    def refused(caller, code: str) -> None:
        api().trail.deny(action, caller, code, fsc_transaction_id=g.fsc_transaction_id)

    return refused


def body_for(action: str, caller) -> dict:
    """The strict JSON body; content type, size and JSON refusals are audited too."""
    try:
        return json_body()
    except GatewayError as error:
        api().trail.deny(action, caller, error.code, fsc_transaction_id=g.fsc_transaction_id)
        raise


@bp.post("/api/v1/consents")
@require_scope("consent:write", on_refused=audit_scope("consent.record"))
@rate_limited
def record():
    caller = current_caller()
    body = body_for("consent.record", caller)
    return jsonify(api().record(caller, body, g.fsc_transaction_id)), 201


@bp.post("/api/v1/consents/<consent_id>/withdraw")
@require_scope("consent:write", on_refused=audit_scope("consent.withdraw"))
@rate_limited
def withdraw(consent_id: str):
    caller = current_caller()
    body = body_for("consent.withdraw", caller)
    return jsonify(api().withdraw(caller, consent_id, body, g.fsc_transaction_id))


@bp.post("/api/v1/consents/search")
@require_scope("consent:read", on_refused=audit_scope("consent.search"))
@rate_limited
def search():
    caller = current_caller()
    body = body_for("consent.search", caller)
    return jsonify(api().search(caller, body, g.fsc_transaction_id))


@bp.get("/api/v1/consents/<consent_id>")
@require_scope("consent:read", on_refused=audit_scope("consent.read"))
@rate_limited
def read(consent_id: str):
    return jsonify(api().get(current_caller(), consent_id, g.fsc_transaction_id))
