"""Dates and times as the contract writes them, and rules relative to "today".

"Today" is the date in Europe/Amsterdam on the day of sending (API.md section 1). Schemas
never read the clock: a schema that checks dates against today takes ``today=`` in its
constructor (``AbsenceReportSchema(today=date(2025, 9, 1))``) and its date fields read it from
the schema they are bound to. Marshmallow 4 has no ``context``; a constructor argument is
explicit, thread-safe (one schema instance per load) and easy to inject in tests. Loading
without ``today`` raises ``TypeError`` rather than guessing.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields

from schemas.base import StrictSchema
from schemas.fields import BASE_MESSAGES

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})"
)


class DatedSchema(StrictSchema):
    """A strict schema whose rules depend on the day of sending, given as ``today``."""

    def __init__(self, *, today: date | None = None, **kwargs: Any) -> None:
        if today is not None and (isinstance(today, datetime) or not isinstance(today, date)):
            raise TypeError("today must be a datetime.date (the local date), not a datetime")
        self.today = today
        super().__init__(**kwargs)


def today_of(schema: Schema | None) -> date:
    """The ``today`` of the schema a field is bound to; refuse to validate without one."""
    today = getattr(schema, "today", None)
    if not isinstance(today, date):
        raise TypeError(f"{type(schema).__name__} needs today= to check dates")
    return today


def age_on(born: date, day: date) -> int:
    """Age in whole years on ``day``; a 29 February child has its birthday on 1 March."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class StrictDate(fields.Date):
    """A calendar date written exactly ``YYYY-MM-DD`` (ASCII digits, a date that exists)."""

    default_error_messages = {
        **BASE_MESSAGES,
        "invalid": "Must be a date written as YYYY-MM-DD.",
        "nonexistent": "Must be a real calendar date.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            raise self.make_error("invalid")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise self.make_error("nonexistent") from None


class PastOrTodayDate(StrictDate):
    """A date that is today or earlier: reports describe what has happened."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {
            "description": "A date no later than today (Europe/Amsterdam).",
            **kwargs.get("metadata", {}),
        }
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        day = super()._deserialize(value, attr, data, **kwargs)
        if day > today_of(self.root):
            raise ValidationError("Must not be in the future.")
        return day


class TodayOrLaterDate(StrictDate):
    """A date that is today or later, such as a planned follow-up."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {
            "description": "A date no earlier than today (Europe/Amsterdam).",
            **kwargs.get("metadata", {}),
        }
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        day = super()._deserialize(value, attr, data, **kwargs)
        if day < today_of(self.root):
            raise ValidationError("Must be today or later.")
        return day


class BirthDate(StrictDate):
    """A child's date of birth giving an age of ``min_age``..``max_age`` whole years today.

    The bounds keep obviously wrong children (a typo in the year) out of the exchange.
    """

    def __init__(self, *, min_age: int = 2, max_age: int = 23, **kwargs: Any) -> None:
        self.min_age = min_age
        self.max_age = max_age
        self.message = f"The child must be {min_age} to {max_age} years old (whole years) today."
        kwargs["metadata"] = {
            "description": f"The child's age on the day of sending is {min_age} to {max_age}.",
            **kwargs.get("metadata", {}),
        }
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        born = super()._deserialize(value, attr, data, **kwargs)
        if not self.min_age <= age_on(born, today_of(self.root)) <= self.max_age:
            raise ValidationError(self.message)
        return born


class StrictDateTime(fields.DateTime):
    """An RFC 3339 time with an offset (``Z`` preferred), normalised to UTC."""

    default_error_messages = {
        **BASE_MESSAGES,
        "invalid": "Must be an RFC 3339 time such as 2025-09-01T08:30:00Z.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or not _DATETIME.fullmatch(value):
            raise self.make_error("invalid")
        try:
            return datetime.fromisoformat(value).astimezone(UTC)
        except ValueError:
            raise self.make_error("invalid") from None
