"""Who must consent for a child of a given age: the Dutch age rule, as one readable function.

Age counts in whole years on the first day the consent is to apply (``valid_from``), because
that is the day the exchange it covers may first happen. A child is a year older from the
start of its birthday; a child born on 29 February is a year older on 1 March in a common
year (the later of the two readings, so the rule never lets a child decide alone too early).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from .errors import ConsentInvalidError, GrantorInvalidError

PARENT_OR_GUARDIAN = frozenset({"parent", "guardian"})
YOUTH = frozenset({"youth"})


@dataclass(frozen=True)
class AgeBand:
    """An age band and the grantors it needs: one role from *each* set in ``needs``."""

    name: str
    needs: tuple[frozenset[str], ...]
    explanation: str


UNDER_12 = AgeBand("under_12", (PARENT_OR_GUARDIAN,), "a parent or guardian must consent")
FROM_12_TO_16 = AgeBand(
    "12_to_15",
    (PARENT_OR_GUARDIAN, YOUTH),
    "a parent or guardian and the youth must both consent",
)
FROM_16 = AgeBand("16_and_over", (YOUTH,), "the youth must consent")


def birthday(date_of_birth: date, year: int) -> date:
    """The day in ``year`` on which the child becomes a year older."""
    if (date_of_birth.month, date_of_birth.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 3, 1)
    return date_of_birth.replace(year=year)


def age_on(date_of_birth: date, day: date) -> int:
    """Whole years of age on ``day`` (negative before birth)."""
    years = day.year - date_of_birth.year
    return years if day >= birthday(date_of_birth, day.year) else years - 1


def required_grantors(date_of_birth: date, valid_from: date) -> AgeBand:
    """The grantors a consent starting on ``valid_from`` needs, by the child's age then.

    Why these bands (Dutch law):
    - WGBO art. 7:450 lid 1 (Burgerlijk Wetboek): for a child from 12 up to 16, care needs the
      consent of the child *and* of the parents with authority or the guardian; under 12 the
      parents or guardian decide for the child (art. 7:465 lid 1); from 16 the young person
      decides alone (art. 7:447).
    - UAVG art. 5 lid 1 (the Dutch use of GDPR art. 8): where processing rests on consent, a
      child under 16 needs the consent of the holder of parental authority or the guardian;
      from 16 the young person's own consent suffices.
    Together: under 12 a parent or guardian; from the 12th to the 16th birthday a parent or
    guardian and the youth; from the 16th birthday the youth. More grantors are fine.
    """
    age = age_on(date_of_birth, valid_from)
    if age < 12:
        return UNDER_12
    if age < 16:
        return FROM_12_TO_16
    return FROM_16


def check_grantors(date_of_birth: date, valid_from: date, roles: Iterable[str]) -> AgeBand:
    """The band when ``roles`` satisfy it; otherwise ``GrantorInvalidError`` (path
    ``granted_by``). A validity that starts before birth is ``ConsentInvalidError``."""
    if valid_from < date_of_birth:
        raise ConsentInvalidError(
            "The consent cannot apply before the child was born.",
            {"valid_from": ["Must be on or after date_of_birth."]},
        )
    band = required_grantors(date_of_birth, valid_from)
    given = set(roles)
    if all(given & needed for needed in band.needs):
        return band
    age = age_on(date_of_birth, valid_from)
    message = f"The child is {age} on valid_from: {band.explanation}."
    raise GrantorInvalidError(message, {"granted_by": [message]})
