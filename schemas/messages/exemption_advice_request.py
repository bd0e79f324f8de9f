"""``exemption_advice_request``: leerplicht asks the GGD's designated physician (Leerplichtwet
1969 art. 5 onder a, art. 7 lid 1 onder a) and the samenwerkingsverband (art. 7 with the
zorgplicht) for advice on a parents' request for exemption (docs/pact-workflows.md section 4).

Leerplicht sends it inside ``POST /api/v1/cases`` (kind ``exemption_advice``), never by
``POST /api/v1/exchanges``; the gateway adds the adviser's own ``case_ref`` after
minimisation. The parents' statement itself stays with leerplicht: the request says only who
signed it (``statement_by``), so no diagnosis travels.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, validates_schema

from schemas.contact import ContactSchema
from schemas.dates import BirthDate, DatedSchema, PastOrTodayDate, TodayOrLaterDate, today_of
from schemas.fields import Brin, Choice, Object, Text
from schemas.vocabulary import EDUCATION_SECTORS, ENROLMENT, STATEMENT_BY

SCHOOL_YEAR_PATTERN = r"^[0-9]{4}-[0-9]{4}$"
_SCHOOL_YEAR = re.compile(SCHOOL_YEAR_PATTERN.removeprefix("^").removesuffix("$"))


class SchoolYear(Text):
    """A school year ``YYYY-YYYY`` (two consecutive years) starting last year, this year or
    next year: an exemption is asked for the running or the coming school year."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {
            "pattern": SCHOOL_YEAR_PATTERN,
            "description": "Two consecutive years, e.g. 2027-2028; the first is last year, "
            "this year or next year.",
            **kwargs.get("metadata", {}),
        }
        super().__init__(max_length=9, min_length=9, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not _SCHOOL_YEAR.fullmatch(text) or int(text[5:]) != int(text[:4]) + 1:
            raise ValidationError("Must be a school year written as YYYY-YYYY, e.g. 2027-2028.")
        this_year = today_of(self.root).year
        if not this_year - 1 <= int(text[:4]) <= this_year + 1:
            raise ValidationError("Must start last year, this year or next year.")
        return text


class ExemptionAdviceRequestSchema(DatedSchema):
    """Payload of ``exemption_advice_request``; construct with ``today=``."""

    school_year = SchoolYear(required=True)
    requested_on = PastOrTodayDate(
        required=True, metadata={"description": "The day the parents' request arrived."}
    )
    education_sector = Choice(EDUCATION_SECTORS, required=True)
    date_of_birth = BirthDate(required=True)
    enrolment = Choice(ENROLMENT, required=True)
    school_brin = Brin(metadata={"description": "Required when enrolment is enrolled."})
    statement_by = Choice(STATEMENT_BY)
    respond_by = TodayOrLaterDate(required=True)
    contact = Object(ContactSchema, required=True)

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _school_of_an_enrolled_child(
        self, data: dict[str, Any], original: Any, **kwargs: Any
    ) -> None:
        if not isinstance(original, dict):
            return
        if data.get("enrolment") == "enrolled" and "school_brin" not in original:
            raise ValidationError("Required when enrolment is enrolled.", "school_brin")
