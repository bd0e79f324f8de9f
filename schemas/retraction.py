"""The body of a retraction (issue 19): ``POST /api/v1/exchanges/{id}/retract``.

``reason`` is a code, not free text, because it is passed on to the recipient in its notice
and written to the audit log: a code cannot carry anything about the child. ``remarks`` is for
the operator's privacy officer (the breach register) and is never passed on. ``corrected_by``
names the sender's own exchange that replaces the retracted one (a correction).
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from schemas.base import StrictSchema, load_with
from schemas.fields import Choice, Text
from schemas.vocabulary import RETRACTION_REASONS


class RetractionRequestSchema(StrictSchema):
    reason = Choice(RETRACTION_REASONS, required=True)
    remarks = Text(max_length=500, multiline=True)
    corrected_by = fields.String(
        validate=validate.Length(min=1, max=36, error="Must be an exchange id."),
        metadata={"description": "The id of the sender's exchange that corrects this one."},
    )


def load_retraction(data: object) -> dict[str, Any]:
    """Check a retraction body; errors under ``reason``, ``remarks``, ``corrected_by``."""
    return load_with(RetractionRequestSchema(), data)
