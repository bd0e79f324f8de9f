"""``absence_report``: a school reports unauthorised absence (school -> leerplicht, swv).

Leerplicht receives it under the Leerplichtwet 1969 art. 21a; the samenwerkingsverband gets
a minimised copy for its zorgplicht. The fields are those of API.md section 3.
"""

from __future__ import annotations

from schemas.contact import ContactSchema
from schemas.dates import BirthDate, DatedSchema, PastOrTodayDate
from schemas.fields import Brin, Choice, Object, Text, bounded_integer
from schemas.vocabulary import ABSENCE_REASON_CATEGORIES, ABSENCE_TYPES, EDUCATION_SECTORS


class AbsenceReportSchema(DatedSchema):
    """Payload of ``absence_report``; construct with ``today=`` to check the dates."""

    absence_type = Choice(ABSENCE_TYPES, required=True)
    start_date = PastOrTodayDate(required=True)
    unauthorised_hours_4_weeks = bounded_integer(0, 200, required=True)
    reason_category = Choice(ABSENCE_REASON_CATEGORIES, required=True)
    education_sector = Choice(EDUCATION_SECTORS, required=True)
    school_brin = Brin(required=True)
    date_of_birth = BirthDate(required=True)
    grade = Text(max_length=20)
    contact = Object(ContactSchema, required=True)
    remarks = Text(max_length=500, multiline=True)
