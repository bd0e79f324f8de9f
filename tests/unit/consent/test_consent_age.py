"""The Dutch age rule at exact birthdays, 29 February included (consent/age.py)."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consent.age import (
    FROM_12_TO_16,
    FROM_16,
    UNDER_12,
    age_on,
    birthday,
    check_grantors,
    required_grantors,
)
from consent.errors import ConsentInvalidError, GrantorInvalidError

BORN = date(2010, 5, 17)


@pytest.mark.parametrize(
    ("day", "age"),
    [
        (date(2010, 5, 17), 0),
        (date(2022, 5, 16), 11),
        (date(2022, 5, 17), 12),
        (date(2026, 5, 16), 15),
        (date(2026, 5, 17), 16),
        (date(2026, 12, 31), 16),
    ],
)
def test_age_turns_on_the_birthday_itself(day, age):
    assert age_on(BORN, day) == age


@pytest.mark.parametrize(
    ("day", "band"),
    [
        (date(2022, 5, 16), UNDER_12),
        (date(2022, 5, 17), FROM_12_TO_16),
        (date(2026, 5, 16), FROM_12_TO_16),
        (date(2026, 5, 17), FROM_16),
    ],
)
def test_bands_change_on_the_12th_and_16th_birthday(day, band):
    assert required_grantors(BORN, day) is band


def test_leap_day_child_in_a_leap_year_has_its_birthday_on_29_february():
    born = date(2012, 2, 29)
    assert birthday(born, 2024) == date(2024, 2, 29)
    assert age_on(born, date(2024, 2, 28)) == 11
    assert age_on(born, date(2024, 2, 29)) == 12
    assert required_grantors(born, date(2024, 2, 29)) is FROM_12_TO_16


def test_leap_day_child_in_a_common_year_is_older_on_1_march():
    born = date(2088, 2, 29)  # 2100 is not a leap year: the 12th birthday falls in a common year
    assert birthday(born, 2100) == date(2100, 3, 1)
    assert age_on(born, date(2100, 2, 28)) == 11
    assert age_on(born, date(2100, 3, 1)) == 12
    assert required_grantors(born, date(2100, 2, 28)) is UNDER_12
    assert required_grantors(born, date(2100, 3, 1)) is FROM_12_TO_16
    assert age_on(date(2008, 2, 29), date(2025, 2, 28)) == 16
    assert age_on(date(2008, 2, 29), date(2025, 3, 1)) == 17


@pytest.mark.parametrize(
    ("day", "roles"),
    [
        (date(2022, 5, 16), ["parent"]),
        (date(2022, 5, 16), ["guardian"]),
        (date(2022, 5, 16), ["parent", "youth"]),
        (date(2022, 5, 17), ["parent", "youth"]),
        (date(2022, 5, 17), ["guardian", "youth"]),
        (date(2026, 5, 16), ["youth", "parent", "parent"]),
        (date(2026, 5, 17), ["youth"]),
        (date(2026, 5, 17), ["youth", "guardian"]),
    ],
)
def test_enough_grantors_are_accepted(day, roles):
    assert check_grantors(BORN, day, roles) is required_grantors(BORN, day)


@pytest.mark.parametrize(
    ("day", "roles", "age"),
    [
        (date(2022, 5, 16), ["youth"], 11),
        (date(2022, 5, 17), ["parent"], 12),
        (date(2022, 5, 17), ["youth"], 12),
        (date(2026, 5, 16), ["parent", "guardian"], 15),
        (date(2026, 5, 17), ["parent"], 16),
        (date(2026, 5, 17), ["guardian", "parent"], 16),
    ],
)
def test_missing_grantors_are_refused_naming_granted_by(day, roles, age):
    with pytest.raises(GrantorInvalidError) as caught:
        check_grantors(BORN, day, roles)
    assert caught.value.code == "consent_grantor_invalid"
    assert list(caught.value.errors) == ["granted_by"]
    assert f"is {age} on valid_from" in caught.value.errors["granted_by"][0]


def test_a_validity_before_birth_is_invalid():
    with pytest.raises(ConsentInvalidError) as caught:
        check_grantors(BORN, date(2010, 5, 16), ["parent"])
    assert caught.value.code == "validation_failed"
    assert caught.value.errors == {"valid_from": ["Must be on or after date_of_birth."]}


@given(born=st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)),
       years=st.integers(min_value=1, max_value=25))
def test_the_age_goes_up_by_one_exactly_on_each_birthday(born, years):
    day = birthday(born, born.year + years)
    assert age_on(born, day) == years
    assert age_on(born, day - timedelta(days=1)) == years - 1


@given(born=st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)),
       offset=st.integers(min_value=0, max_value=25 * 366))
def test_bands_follow_the_age_and_more_grantors_never_hurt(born, offset):
    day = born + timedelta(days=offset)
    age = age_on(born, day)
    band = required_grantors(born, day)
    assert band is (UNDER_12 if age < 12 else FROM_12_TO_16 if age < 16 else FROM_16)
    assert check_grantors(born, day, ["parent", "guardian", "youth"]) is band
