"""``case_invitation``: a school invites an organisation to a consultation about one child
(the team around the child, docs/pact-workflows.md section 3).

The school sends it inside ``POST /api/v1/cases`` (member ``payload``), never by
``POST /api/v1/exchanges``. Why the team meets is an enumeration (``question``) and what
worries the school are categories: an invitation is where a school is most tempted to write a
diagnosis, so there is no free-text field at all. The gateway adds the recipient's own
``case_ref`` and the ``participants`` after minimisation (the route profile's
``gateway_fields``); a sender cannot write them.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, validates_schema

from schemas.base import StrictSchema
from schemas.contact import ContactSchema
from schemas.dates import BirthDate, DatedSchema, StrictDate, TodayOrLaterDate, today_of
from schemas.fields import Brin, Choice, ListOf, Object, Text, bounded_integer
from schemas.vocabulary import CASE_QUESTIONS, CONCERN_CATEGORIES, EDUCATION_SECTORS, MEETING_MODES

TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
_TIME = re.compile(TIME_PATTERN.removeprefix("^").removesuffix("$"))


class ClockTime(Text):
    """A time of day written ``HH:MM`` (24 hours, ASCII digits)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {"pattern": TIME_PATTERN, **kwargs.get("metadata", {})}
        super().__init__(max_length=5, min_length=5, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        time = super()._deserialize(value, attr, data, **kwargs)
        if not _TIME.fullmatch(time):
            raise ValidationError("Must be a time written as HH:MM (00:00 to 23:59).")
        return time


class MeetingSchema(StrictSchema):
    """When and how the team meets. That the date is today or later is checked by the
    invitation (a nested schema does not know the day of sending)."""

    date = StrictDate(required=True, metadata={"description": "Today or later."})
    time = ClockTime()
    mode = Choice(MEETING_MODES, required=True)


class CaseInvitationSchema(DatedSchema):
    """Payload of ``case_invitation``; construct with ``today=``."""

    meeting = Object(MeetingSchema, required=True)
    question = Choice(CASE_QUESTIONS, required=True)
    concern_categories = ListOf(Choice(CONCERN_CATEGORIES), required=True, min_items=1, unique=True)
    education_sector = Choice(EDUCATION_SECTORS, required=True)
    school_brin = Brin(required=True)
    date_of_birth = BirthDate(required=True)
    unauthorised_hours_4_weeks = bounded_integer(0, 200)
    sick_days_12_weeks = bounded_integer(0, 60)
    respond_by = TodayOrLaterDate(
        required=True, metadata={"description": "Today or later, not after meeting.date."}
    )
    contact = Object(ContactSchema, required=True)

    @validates_schema(skip_on_field_errors=False)
    def _meeting_ahead_and_answer_before_it(self, data: dict[str, Any], **kwargs: Any) -> None:
        meeting = data.get("meeting")
        if not isinstance(meeting, dict) or "date" not in meeting:
            return
        if meeting["date"] < today_of(self):
            raise ValidationError({"meeting": {"date": ["Must be today or later."]}})
        respond_by = data.get("respond_by")
        if respond_by is not None and respond_by > meeting["date"]:
            raise ValidationError("Must not be after meeting.date.", "respond_by")
