"""``support_request``: a school asks the WIJ team for support for a child's family.

Concerns are categories, not a story: the free text that would describe a family's trouble
stays with the school.
"""

from __future__ import annotations

from schemas.contact import ContactSchema
from schemas.dates import BirthDate, DatedSchema
from schemas.fields import Choice, ListOf, Object
from schemas.vocabulary import CONCERN_CATEGORIES, EDUCATION_SECTORS, URGENCIES


class SupportRequestSchema(DatedSchema):
    """Payload of ``support_request``; construct with ``today=``."""

    concern_categories = ListOf(Choice(CONCERN_CATEGORIES), required=True, min_items=1, unique=True)
    urgency = Choice(URGENCIES, required=True)
    education_sector = Choice(EDUCATION_SECTORS, required=True)
    date_of_birth = BirthDate(required=True)
    contact = Object(ContactSchema, required=True)
