"""``homebound_report``: leerplicht tells the samenwerkingsverband a child is at home.

These reports feed the pact's monitoring indicators (API.md section 9), which measure a
homebound period from ``since_date`` to ``placed_date``; so a placement date is required
exactly when the child is placed, and cannot precede the start of the period.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validates_schema

from schemas.dates import BirthDate, DatedSchema, PastOrTodayDate
from schemas.fields import Choice
from schemas.vocabulary import EDUCATION_SECTORS, HOMEBOUND_CATEGORIES, PERSPECTIVES


class HomeboundReportSchema(DatedSchema):
    """Payload of ``homebound_report``; construct with ``today=``."""

    category = Choice(HOMEBOUND_CATEGORIES, required=True)
    since_date = PastOrTodayDate(required=True)
    education_sector = Choice(EDUCATION_SECTORS, required=True)
    date_of_birth = BirthDate(required=True)
    perspective = Choice(PERSPECTIVES, required=True)
    placed_date = PastOrTodayDate(
        metadata={"description": "Required exactly when perspective is placed; not in the future."}
    )

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _placed_date_iff_placed(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        if not isinstance(original, dict) or "perspective" not in data:
            return
        given = "placed_date" in original
        if data["perspective"] == "placed" and not given:
            raise ValidationError("Required when perspective is placed.", "placed_date")
        if data["perspective"] != "placed" and given:
            raise ValidationError("Only allowed when perspective is placed.", "placed_date")
        placed, since = data.get("placed_date"), data.get("since_date")
        if placed is not None and since is not None and placed < since:
            raise ValidationError("Must not be before since_date.", "placed_date")
