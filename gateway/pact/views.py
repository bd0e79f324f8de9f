"""``/api/v1/cases``: thin handlers over :class:`~gateway.pact.service.CaseService`
(docs/pact-workflows.md section 7).

No new scope: writes need ``exchange:send``, reads ``exchange:send`` or ``exchange:receive``.
``POST /api/v1/cases`` takes any valid token and checks the scope as the first step of the
case service, like a send, so that the refusal is audited with the rest; the other operations
audit the protector's and the body reader's refusals through :data:`REFUSALS`, under the
action that was attempted. A caller without a valid token is refused before any of this and
never audited (API.md section 13 rule 4).
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from ..api.paging import limit_parameter
from ..api.refusals import Refusals
from ..api.request import json_body
from ..oauth.protect import current_caller, require_scope
from ..ratelimit import rate_limited
from ..services import services

bp = Blueprint("cases", __name__)

SEND, RECEIVE = "exchange:send", "exchange:receive"


def service():
    return services().cases


REFUSALS = Refusals(lambda action, caller, code, fsc: service().deny(action, caller, code, fsc))
"""Refusals before the case service runs are audited like its own."""


@bp.post("/api/v1/cases")
@require_scope()  # any valid token: the scope is the case's first step, audited with the rest
@rate_limited
def open_case():
    answer = service().open(
        current_caller(), json_body, request.headers.get("Idempotency-Key"), g.fsc_transaction_id
    )
    return jsonify(answer), 201


@bp.get("/api/v1/cases")
@require_scope(SEND, RECEIVE, any_of=True, on_refused=REFUSALS.on_refused("case.read"))
@rate_limited
def list_cases():
    caller = current_caller()
    with REFUSALS.audited("case.read", caller):
        page = service().list(
            caller,
            request.args.get("kind"),
            request.args.get("status"),
            request.args.get("cursor"),
            limit_parameter(),
        )
    return jsonify(page)


@bp.get("/api/v1/cases/<case_ref>")
@require_scope(SEND, RECEIVE, any_of=True, on_refused=REFUSALS.on_refused("case.read"))
@rate_limited
def read_case(case_ref: str):
    return jsonify(service().get(current_caller(), case_ref, g.fsc_transaction_id))


def _action(name: str, call, case_ref: str, *, optional: bool = False):
    """Read the body (its refusals audited as ``name``) and hand it to the service."""
    caller = current_caller()
    body = REFUSALS.body(name, caller, optional=optional)
    return call(caller, case_ref, body, g.fsc_transaction_id)


@bp.post("/api/v1/cases/<case_ref>/accept")
@require_scope(SEND, on_refused=REFUSALS.on_refused("case.accept"))
@rate_limited
def accept(case_ref: str):
    return jsonify(_action("case.accept", service().accept, case_ref, optional=True))


@bp.post("/api/v1/cases/<case_ref>/decline")
@require_scope(SEND, on_refused=REFUSALS.on_refused("case.decline"))
@rate_limited
def decline(case_ref: str):
    return jsonify(_action("case.decline", service().decline, case_ref))


@bp.post("/api/v1/cases/<case_ref>/agreements")
@require_scope(SEND, on_refused=REFUSALS.on_refused("case.agree"))
@rate_limited
def agreements(case_ref: str):
    return jsonify(_action("case.agree", service().agreements, case_ref)), 201


@bp.post("/api/v1/cases/<case_ref>/agreements/<no>/done")
@require_scope(SEND, on_refused=REFUSALS.on_refused("case.agreement_done"))
@rate_limited
def agreement_done(case_ref: str, no: str):
    caller = current_caller()
    REFUSALS.body("case.agreement_done", caller, optional=True)
    return jsonify(service().done(caller, case_ref, no, g.fsc_transaction_id))


@bp.post("/api/v1/cases/<case_ref>/decision")
@require_scope(SEND, on_refused=REFUSALS.on_refused("exemption.decide"))
@rate_limited
def decision(case_ref: str):
    return jsonify(_action("exemption.decide", service().decide, case_ref))


@bp.post("/api/v1/cases/<case_ref>/close")
@require_scope(SEND, on_refused=REFUSALS.on_refused("case.close"))
@rate_limited
def close(case_ref: str):
    return jsonify(_action("case.close", service().close, case_ref))
