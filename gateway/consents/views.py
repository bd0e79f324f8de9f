"""``/api/v1/consents``: thin handlers over :class:`ConsentApi` (API.md section 5)."""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from ..api.refusals import Refusals
from ..oauth.protect import current_caller, require_scope
from ..ratelimit import rate_limited
from ..services import services
from .api import ConsentApi

bp = Blueprint("consents", __name__)


def api() -> ConsentApi:
    return services().consents


REFUSALS = Refusals(lambda action, caller, code, fsc: api().deny(action, caller, code, None, fsc))
"""Refusals before the registry runs are audited like its own (:meth:`ConsentApi.deny`)."""


@bp.post("/api/v1/consents")
@require_scope("consent:write", on_refused=REFUSALS.on_refused("consent.record"))
@rate_limited
def record():
    caller = current_caller()
    body = REFUSALS.body("consent.record", caller)
    return jsonify(api().record(caller, body, g.fsc_transaction_id)), 201


@bp.post("/api/v1/consents/<consent_id>/withdraw")
@require_scope("consent:write", on_refused=REFUSALS.on_refused("consent.withdraw"))
@rate_limited
def withdraw(consent_id: str):
    caller = current_caller()
    body = REFUSALS.body("consent.withdraw", caller)
    return jsonify(api().withdraw(caller, consent_id, body, g.fsc_transaction_id))


@bp.post("/api/v1/consents/search")
@require_scope("consent:read", on_refused=REFUSALS.on_refused("consent.search"))
@rate_limited
def search():
    caller = current_caller()
    body = REFUSALS.body("consent.search", caller)
    return jsonify(api().search(caller, body, g.fsc_transaction_id))


@bp.get("/api/v1/consents/<consent_id>")
@require_scope("consent:read", on_refused=REFUSALS.on_refused("consent.read"))
@rate_limited
def read(consent_id: str):
    return jsonify(api().get(current_caller(), consent_id, g.fsc_transaction_id))
