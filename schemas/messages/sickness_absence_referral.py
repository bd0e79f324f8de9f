"""``sickness_absence_referral``: a school refers frequent sick reports to the GGD (MAZL).

Medische Advisering Ziekgemelde Leerling runs on consent; the payload carries counts and a
short concern, never a diagnosis.
"""

from __future__ import annotations

from schemas.contact import ContactSchema
from schemas.dates import BirthDate, DatedSchema
from schemas.fields import Choice, Object, Text, bounded_integer
from schemas.vocabulary import EDUCATION_SECTORS


class SicknessAbsenceReferralSchema(DatedSchema):
    """Payload of ``sickness_absence_referral``; construct with ``today=``."""

    sick_days_12_weeks = bounded_integer(0, 60, required=True)
    sick_reports_12_weeks = bounded_integer(0, 60, required=True)
    education_sector = Choice(EDUCATION_SECTORS, required=True)
    date_of_birth = BirthDate(required=True)
    concern = Text(max_length=500, multiline=True)
    contact = Object(ContactSchema, required=True)
