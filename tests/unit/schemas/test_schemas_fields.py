"""The shared strict fields: formats from API.md sections 1 and 3, ASCII digits only."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import ValidationError

from schemas.base import StrictSchema
from schemas.bsn import is_valid_bsn
from schemas.dates import StrictDate, StrictDateTime
from schemas.fields import (
    Brin,
    Bsn,
    BsnField,
    Email,
    Oin,
    Phone,
    Pseudonym,
    StrictInteger,
    Text,
    bounded_integer,
)


class Probe(StrictSchema):
    oin = Oin()
    brin = Brin()
    pseudonym = Pseudonym()
    bsn = Bsn()
    date = StrictDate()
    at = StrictDateTime()
    count = bounded_integer(0, 200)
    number = StrictInteger()
    line = Text(max_length=10)
    note = Text(max_length=10, multiline=True)
    phone = Phone()
    email = Email()


def errors_for(field, value):
    try:
        Probe().load({field: value})
    except ValidationError as exc:
        return exc.messages.get(field)
    return None


def accepted(field, value):
    return errors_for(field, value) is None


# --- BSN -----------------------------------------------------------------------------

VALID_BSNS = ["123456782", "111222333", "999999990"]  # elfproef sums 154, 66, 396


@pytest.mark.parametrize("bsn", VALID_BSNS)
def test_valid_bsns_pass(bsn):
    assert is_valid_bsn(bsn)
    assert accepted("bsn", bsn)


@pytest.mark.parametrize(
    "bsn",
    [
        "123456789",  # elfproef sum 147
        "000000000",  # passes the arithmetic, never issued
        "12345678",
        "1234567820",
        " 123456782",
        "123456782\n",
        "١٢٣٤٥٦٧٨٢",  # Arabic-Indic digits
        "１２３４５６７８２",  # fullwidth digits
        "12345678a",
        "",
    ],
)
def test_invalid_bsns_refused_without_echo(bsn):
    assert not is_valid_bsn(bsn)
    assert errors_for("bsn", bsn) == ["is not a valid BSN"]


@pytest.mark.parametrize("value", [123456782, None, True, ["123456782"]])
def test_bsn_must_be_a_string(value):
    assert not accepted("bsn", value)


@given(st.sampled_from(VALID_BSNS), st.integers(0, 8), st.integers(1, 9))
def test_any_single_digit_change_breaks_the_elfproef(bsn, position, delta):
    digit = (int(bsn[position]) + delta) % 10
    changed = bsn[:position] + str(digit) + bsn[position + 1 :]
    assert not is_valid_bsn(changed)


@given(st.text(alphabet="0123456789٠١٢３", min_size=1, max_size=12))
def test_bsn_messages_never_echo_the_input(value):
    for message in errors_for("bsn", value) or []:
        assert value not in message


def test_bsn_field_alias():
    assert BsnField is Bsn


# --- OIN, BRIN, pseudonym ------------------------------------------------------------


def test_oin_accepts_exactly_twenty_ascii_digits():
    assert accepted("oin", "00000001001234567000")


@pytest.mark.parametrize(
    "oin",
    [
        "0000000100123456700",
        "000000010012345670001",
        "0000000100123456700a",
        "٠٠٠٠٠٠٠١٠٠١٢٣٤٥٦٧٠٠٠",
        "00000001001234567000\n",
        12345678901234567890,
    ],
)
def test_oin_refused(oin):
    assert not accepted("oin", oin)


@given(st.from_regex(r"[0-9]{2}[A-Z]{2}", fullmatch=True))
def test_brin_pattern_accepted(brin):
    assert accepted("brin", brin)


@given(st.text().filter(lambda s: re.fullmatch(r"[0-9]{2}[A-Z]{2}", s) is None))
def test_any_other_string_is_not_a_brin(text):
    assert errors_for("brin", text) == [
        "Must be a BRIN code: two digits then two capital letters, like 12AB."
    ]


@pytest.mark.parametrize("brin", ["12ab", "1ABC", "12ABC", "AB12", "١٢AB", "12ÄB", "12AB\n"])
def test_brin_examples_refused(brin):
    assert not accepted("brin", brin)


def test_pseudonym_alphabet_and_length():
    assert accepted("pseudonym", "aZ09_-")
    assert accepted("pseudonym", "a" * 128)
    assert not accepted("pseudonym", "a" * 129)
    assert not accepted("pseudonym", "")
    assert not accepted("pseudonym", "abc=")  # padding is not base64url's alphabet
    assert not accepted("pseudonym", "ab/c")
    assert not accepted("pseudonym", "ab c")


# --- integers --------------------------------------------------------------------------


@pytest.mark.parametrize("value", [True, False, 1.0, 1.5, "1", "١", None, [1]])
def test_integer_must_be_a_json_integer(value):
    assert not accepted("number", value)


def test_bounded_integer_range_is_inclusive():
    assert accepted("count", 0)
    assert accepted("count", 200)
    assert errors_for("count", -1) == ["Must be between 0 and 200."]
    assert errors_for("count", 201) == ["Must be between 0 and 200."]


# --- dates and times ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["2024-02-29", "2025-01-01", "0001-01-01"])
def test_strict_date_accepts_real_dates(value):
    assert accepted("date", value)


@pytest.mark.parametrize(
    "value",
    [
        "2025-02-29",
        "2025-13-01",
        "2025-1-01",
        "20250101",
        "2025-01-01T00:00:00",
        "٢٠٢٥-٠١-٠١",
        "2025-01-01 ",
        20250101,
        None,
    ],
)
def test_strict_date_refuses_anything_else(value):
    assert not accepted("date", value)


def test_strict_datetime_needs_an_offset():
    assert accepted("at", "2025-06-15T10:00:00Z")
    assert accepted("at", "2025-06-15T10:00:00.123+02:00")
    assert not accepted("at", "2025-06-15T10:00:00")
    assert not accepted("at", "2025-06-15")
    assert not accepted("at", "2025-06-15T25:00:00Z")


# --- text, phone, email ----------------------------------------------------------------


def test_text_bounds_and_clean_characters():
    assert accepted("line", "a" * 10)
    assert errors_for("line", "a" * 11) == ["Must be 1 to 10 characters long."]
    assert not accepted("line", "")
    assert not accepted("line", "   ")
    assert not accepted("line", "a\nb")
    assert not accepted("line", "a\x00b")
    assert not accepted("line", "a\ud800b")
    assert accepted("note", "a\nb\tc")
    assert not accepted("note", "a\x07b")
    assert not accepted("line", 5)


@pytest.mark.parametrize("phone", ["0612345678", "+31 6 1234-5678", "1" * 30])
def test_phone_accepted(phone):
    assert accepted("phone", phone)


@pytest.mark.parametrize("phone", ["1" * 31, "06(12)345678", "+-", "٠٦١٢٣", "06x", ""])
def test_phone_refused(phone):
    assert not accepted("phone", phone)


@pytest.mark.parametrize("email", ["a@school.nl", "first.last+tag@sub.example.org"])
def test_email_accepted(email):
    assert accepted("email", email)


@pytest.mark.parametrize(
    "email",
    ["plain", "a@", "@school.nl", "a@localhost", "a b@school.nl", "a@school", "x" * 250 + "@a.nl"],
)
def test_email_refused(email):
    assert not accepted("email", email)
