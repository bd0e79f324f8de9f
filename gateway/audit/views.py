"""``/api/v1/audit/*``: thin handlers over :class:`~gateway.audit.service.AuditService`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Blueprint, Response, g, jsonify, request, stream_with_context

from ..api.request import check_transaction_id, json_body
from ..oauth.protect import current_caller, require_scope
from ..paging import parse_limit
from ..problems import GatewayError
from ..ratelimit import rate_limited
from ..services import services
from . import params
from .actors import Actor
from .export import CONTENT_TYPES
from .service import AuditService

bp = Blueprint("audit", __name__)


def service() -> AuditService:
    return services().audit


def refused(action: str):
    """An ``on_refused`` hook: a read without the scope is a denied ``action``."""

    def hook(caller, code: str) -> None:
        service().deny(action, Actor.from_caller(caller), code, g.fsc_transaction_id)

    return hook


@contextmanager
def denying(action: str, actor: Actor) -> Iterator[None]:
    """Record a refusal raised inside the block under ``action``, then let it through."""
    try:
        yield
    except GatewayError as error:
        service().deny(action, actor, error.code, g.fsc_transaction_id)
        raise


@bp.get("/api/v1/audit/key")
def key():
    return jsonify(service().key())


@bp.get("/api/v1/audit/events")
@require_scope("audit:read", on_refused=refused("audit.search"))
@rate_limited
def events():
    actor = Actor.from_caller(current_caller())
    with denying("audit.search", actor):
        check_transaction_id()
        wanted = params.parse_filter(request.args)
        limit = parse_limit(request.args.get("limit"))
        return jsonify(
            service().search(actor, wanted, request.args.get("cursor"), limit, g.fsc_transaction_id)
        )


@bp.post("/api/v1/audit/subject-report")
@require_scope("audit:read", on_refused=refused("audit.subject_report"))
@rate_limited
def subject_report():
    actor = Actor.from_caller(current_caller())
    with denying("audit.subject_report", actor):
        body = json_body()
    return jsonify(service().subject_report(actor, body, g.fsc_transaction_id))


@bp.get("/api/v1/audit/export")
@require_scope("audit:read", on_refused=refused("audit.export"))
@rate_limited
def export():
    actor = Actor.from_caller(current_caller())
    with denying("audit.export", actor):
        check_transaction_id()
        fmt = params.parse_format(request.args.get("format"))
        wanted = params.parse_time_range(request.args)
    lines = service().export(actor, fmt, wanted, g.fsc_transaction_id)
    response = Response(stream_with_context(lines), content_type=CONTENT_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="audit-export.{fmt}"'
    return response


@bp.get("/api/v1/audit/verify")
@require_scope("audit:read", on_refused=refused("audit.verify"))
@rate_limited
def verify():
    actor = Actor.from_caller(current_caller())
    with denying("audit.verify", actor):
        check_transaction_id()
    return jsonify(service().verify(actor, g.fsc_transaction_id).as_dict())


@bp.get("/api/v1/audit/proof/<seq>")
@require_scope("audit:read")
@rate_limited
def proof(seq: str):
    check_transaction_id()
    number = params.parse_size("seq", seq, required=True)
    tree_size = params.parse_size("tree_size", request.args.get("tree_size"), required=False)
    actor = Actor.from_caller(current_caller())
    return jsonify(service().proof(actor, number, tree_size, g.fsc_transaction_id))


@bp.get("/api/v1/audit/consistency")
@require_scope("audit:read")
@rate_limited
def consistency():
    check_transaction_id()
    from_size = params.parse_size("from_size", request.args.get("from_size"), required=True)
    to_size = params.parse_size("to_size", request.args.get("to_size"), required=True)
    return jsonify(service().proofs.consistency(from_size, to_size))
