"""``GET /api/v1/monitoring/indicators`` (scope ``monitoring:read``)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from ..docs.query import query_value
from ..oauth.protect import current_caller, require_scope
from ..problems import InvalidParameter
from ..ratelimit import rate_limited
from ..services import services
from .indicators import InvalidSchoolYear

bp = Blueprint("monitoring", __name__)


@bp.get("/api/v1/monitoring/indicators")
@require_scope("monitoring:read")
@rate_limited
def indicators():
    caller = current_caller()
    scope = None if caller.org_type == "operator" else caller.org_id
    key, year = query_value(request.args, "schoolYear")
    try:
        if year is not None and not year:
            raise InvalidSchoolYear(f"{key} must look like 2025-2026")
        answer = services().monitoring.indicators(year, scope)
    except InvalidSchoolYear as exc:
        raise InvalidParameter(str(exc), errors={key: [str(exc)]}) from None
    return jsonify(answer)
