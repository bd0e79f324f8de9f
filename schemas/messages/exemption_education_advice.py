"""``exemption_education_advice``: the samenwerkingsverband tells leerplicht what it would
take to keep the child in education (the Groningen working group's question: "wat nodig is
om het kind alsnog binnen het onderwijs te houden").

Arrangements are codes: an arrangement that exists names at least one option; only
``not_available`` may come without one. ``in_reply_to`` (required) is the request the SWV
received.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validates_schema

from schemas.contact import ContactSchema
from schemas.dates import DatedSchema, StrictDate
from schemas.fields import Choice, ListOf, Object
from schemas.messages.reference import ExchangeReference
from schemas.vocabulary import EDUCATION_ARRANGEMENTS, EDUCATION_OPTIONS


class ExemptionEducationAdviceSchema(DatedSchema):
    """Payload of ``exemption_education_advice``; ``available_from`` may lie in the future."""

    in_reply_to = ExchangeReference(required=True)
    arrangement = Choice(EDUCATION_ARRANGEMENTS, required=True)
    options = ListOf(
        Choice(EDUCATION_OPTIONS),
        required=True,
        unique=True,
        metadata={"description": "May be empty only when arrangement is not_available."},
    )
    available_from = StrictDate()
    contact = Object(ContactSchema, required=True)

    @validates_schema(skip_on_field_errors=False)
    def _options_of_an_arrangement(self, data: dict[str, Any], **kwargs: Any) -> None:
        arrangement, options = data.get("arrangement"), data.get("options")
        if arrangement is None or options is None:
            return
        if arrangement != "not_available" and not options:
            raise ValidationError(
                "Must name at least one option unless arrangement is not_available.", "options"
            )
