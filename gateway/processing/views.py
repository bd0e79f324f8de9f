"""``GET /api/v1/processing-activities`` and ``/{id}``: the register of processing activities
(AVG article 30), public.

Public on purpose: the register must be shown to the supervisory authority on request and
describes the processing, never a person (no child, no consent, no organisation by name), so a
token would protect nothing and would keep the Autoriteit Persoonsgegevens, a parent or a
partner's privacy officer from reading what the gateway does. Limited per address, like the
other endpoints that answer without a token.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from ..problems import NotFound
from ..ratelimit import address_rate_limited
from ..services import services

bp = Blueprint("processing", __name__)


@bp.get("/api/v1/processing-activities")
@address_rate_limited
def activities():
    return jsonify(activities=services().processing_register.activities())


@bp.get("/api/v1/processing-activities/<activity_id>")
@address_rate_limited
def activity(activity_id: str):
    found = services().processing_register.activity(activity_id)
    if found is None:
        raise NotFound("No such processing activity.")
    return jsonify(found)
