"""``/api/v1/audit/*``: thin handlers over :class:`~gateway.audit.service.AuditService`."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request, stream_with_context

from ..api.refusals import Refusals
from ..docs.query import query_value
from ..oauth.protect import current_caller, require_scope
from ..paging import parse_limit
from ..ratelimit import rate_limited
from ..services import services
from . import params
from .actors import Actor
from .export import CONTENT_TYPES
from .service import AuditService

bp = Blueprint("audit", __name__)


def service() -> AuditService:
    return services().audit


REFUSALS = Refusals.by_actor(service)
"""A read refused before the service runs is audited like the service's own refusals."""


@bp.get("/api/v1/audit/key")
def key():
    return jsonify(service().key())


@bp.get("/api/v1/audit/events")
@require_scope("audit:read", on_refused=REFUSALS.on_refused("audit.search"))
@rate_limited
def events():
    caller = current_caller()
    actor = Actor.from_caller(caller)
    with REFUSALS.audited("audit.search", caller):
        query_value(request.args, "messageType")  # both forms at once must agree
        wanted = params.parse_filter(request.args)
        limit = parse_limit(request.args.get("limit"))
        return jsonify(
            service().search(actor, wanted, request.args.get("cursor"), limit, g.fsc_transaction_id)
        )


@bp.post("/api/v1/audit/subject-report")
@require_scope("audit:read", on_refused=REFUSALS.on_refused("audit.subject_report"))
@rate_limited
def subject_report():
    caller = current_caller()
    body = REFUSALS.body("audit.subject_report", caller)
    return jsonify(service().subject_report(Actor.from_caller(caller), body, g.fsc_transaction_id))


@bp.get("/api/v1/audit/export")
@require_scope("audit:read", on_refused=REFUSALS.on_refused("audit.export"))
@rate_limited
def export():
    caller = current_caller()
    with REFUSALS.audited("audit.export", caller):
        fmt = params.parse_format(request.args.get("format"))
        wanted = params.parse_time_range(request.args)
    lines = service().export(Actor.from_caller(caller), fmt, wanted, g.fsc_transaction_id)
    response = Response(stream_with_context(lines), content_type=CONTENT_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="audit-export.{fmt}"'
    return response


@bp.get("/api/v1/audit/verify")
@require_scope("audit:read", on_refused=REFUSALS.on_refused("audit.verify"))
@rate_limited
def verify():
    actor = Actor.from_caller(current_caller())
    return jsonify(service().verify(actor, g.fsc_transaction_id).as_dict())


@bp.get("/api/v1/audit/proof/<seq>")
@require_scope("audit:read")
@rate_limited
def proof(seq: str):
    number = params.parse_size("seq", seq, required=True)
    tree_size = params.parse_size(*query_value(request.args, "treeSize"), required=False)
    actor = Actor.from_caller(current_caller())
    return jsonify(service().proof(actor, number, tree_size, g.fsc_transaction_id))


@bp.get("/api/v1/audit/consistency")
@require_scope("audit:read")
@rate_limited
def consistency():
    from_size = params.parse_size(*query_value(request.args, "fromSize"), required=True)
    to_size = params.parse_size(*query_value(request.args, "toSize"), required=True)
    service().gaps.require_none()  # 503 audit_log_rewound after a restore, until acknowledged
    return jsonify(service().proofs.consistency(from_size, to_size))


@bp.get("/api/v1/audit/checkpoint")
@require_scope("audit:read")
@rate_limited
def checkpoint():
    """The newest signed checkpoint; after a database restore, the gap instead (issue 19)."""
    return jsonify(service().gaps.checkpoint())
