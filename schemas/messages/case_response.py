"""``case_response``: an invitee's answer to a consultation invitation, to the convener.

The gateway builds it from ``POST /api/v1/cases/{case_ref}/accept`` or ``/decline``; the
invitee never writes it and cannot send it by ``POST /api/v1/exchanges``. ``in_reply_to`` is
the invitation the invitee received; the convener's own ``case_ref`` is added after
minimisation (a gateway field). A decline gives a reason code, never a story.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validates_schema

from schemas.contact import ContactSchema
from schemas.dates import DatedSchema
from schemas.fields import Choice, Object
from schemas.messages.reference import ExchangeReference
from schemas.vocabulary import CASE_RESPONSES, DECLINE_REASONS


class CaseResponseSchema(DatedSchema):
    """Payload of ``case_response``; it has no dates, ``today=`` is accepted for symmetry."""

    in_reply_to = ExchangeReference(required=True)
    response = Choice(CASE_RESPONSES, required=True)
    decline_reason = Choice(
        DECLINE_REASONS, metadata={"description": "Required exactly when response is declined."}
    )
    contact = Object(ContactSchema)

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _reason_iff_declined(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        if not isinstance(original, dict) or "response" not in data:
            return
        given = "decline_reason" in original
        if data["response"] == "declined" and not given:
            raise ValidationError("Required when response is declined.", "decline_reason")
        if data["response"] != "declined" and given:
            raise ValidationError("Only allowed when response is declined.", "decline_reason")
