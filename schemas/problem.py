"""RFC 9457 problem details, the shape of every error outside ``/oauth/*`` (API.md section 1).

Documented here so the OpenAPI document can name it on every error response; building
problems is the gateway's job (``gateway/errors.py``).
"""

from __future__ import annotations

from marshmallow import fields

from schemas.base import ResponseSchema
from schemas.fields import StrictInteger


class ProblemSchema(ResponseSchema):
    """``application/problem+json``; open, as RFC 9457 allows extension members."""

    type = fields.String(required=True, metadata={"format": "uri-reference"})
    title = fields.String(required=True)
    status = StrictInteger(required=True, metadata={"minimum": 400, "maximum": 599})
    detail = fields.String(required=True)
    code = fields.String(
        required=True, metadata={"description": "Stable, machine-readable error code."}
    )
    instance = fields.String(required=True, metadata={"format": "uri-reference"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Dotted field path -> messages; non-empty on every 422."},
    )
    error_id = fields.String(
        metadata={"description": "On 500 internal_error: the id the log also holds."}
    )
