"""BSN validation (elfproef) and the masked ``Bsn`` value type."""

from __future__ import annotations

import dataclasses
import logging

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pseudonymise import Bsn, InvalidBsnError, PseudonymiseError, generate_valid_bsns, is_valid_bsn

# 111222333 and 123456782 are the example BSNs of Dutch test documentation (sums worked out in
# test_reference_implementation_agrees_with_hand_computed_sums); 999999990: 9 * 44 = 396 = 36 * 11.
KNOWN_VALID = ["111222333", "123456782", "999999990"]
KNOWN_INVALID = ["123456789", "111222334", "000000000", "999999999"]

DIGITS = "0123456789"
ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩"
FULLWIDTH = "０１２３４５６７８９"
DEVANAGARI = "०१२३४५६७८९"


def reference_elfproef(value: object) -> bool:
    """Independent, deliberately naive implementation of the 11-proof from its definition."""
    if not isinstance(value, str) or len(value) != 9:
        return False
    if any(c not in DIGITS for c in value):
        return False
    weights = [9, 8, 7, 6, 5, 4, 3, 2, -1]
    total = sum(DIGITS.index(c) * w for c, w in zip(value, weights, strict=True))
    return total % 11 == 0 and total != 0


nine_digits = st.text(alphabet=DIGITS, min_size=9, max_size=9)


@st.composite
def valid_bsns(draw: st.DrawFn) -> str:
    """A valid BSN built from eight random digits and a computed check digit."""
    head = draw(st.text(alphabet=DIGITS, min_size=8, max_size=8))
    weighted = sum(int(c) * w for c, w in zip(head, range(9, 1, -1), strict=True))
    check = weighted % 11
    assume(check != 10 and weighted != check)
    value = head + str(check)
    assert reference_elfproef(value)
    return value


# --- is_valid_bsn ------------------------------------------------------------------------


def test_reference_implementation_agrees_with_hand_computed_sums() -> None:
    # 1*9 + 1*8 + 1*7 + 2*6 + 2*5 + 2*4 + 3*3 + 3*2 - 3*1 = 66 = 6 * 11
    assert reference_elfproef("111222333")
    # 1*9 + 2*8 + 3*7 + 4*6 + 5*5 + 6*4 + 7*3 + 8*2 - 2*1 = 154 = 14 * 11
    assert reference_elfproef("123456782")
    # ... - 9*1 = 147, not a multiple of 11
    assert not reference_elfproef("123456789")


@pytest.mark.parametrize("value", KNOWN_VALID)
def test_known_valid_bsns_are_accepted(value: str) -> None:
    assert is_valid_bsn(value)
    assert Bsn(value).digits == value


@pytest.mark.parametrize("value", KNOWN_INVALID)
def test_known_invalid_bsns_are_refused(value: str) -> None:
    assert not is_valid_bsn(value)
    with pytest.raises(InvalidBsnError):
        Bsn(value)


def test_a_weighted_sum_of_zero_is_refused() -> None:
    # 000000000 sums to 0; so does 000000012 (2*1 - 1*2 = 0): divisible by 11 but refused.
    assert not is_valid_bsn("000000000")
    assert not is_valid_bsn("000000012")


@given(nine_digits)
def test_matches_independent_elfproef_on_every_nine_digit_string(value: str) -> None:
    assert is_valid_bsn(value) == reference_elfproef(value)


@given(valid_bsns())
def test_generated_valid_bsns_pass(value: str) -> None:
    assert is_valid_bsn(value)


@given(valid_bsns(), st.integers(min_value=0, max_value=8), st.integers(1, 9))
def test_any_single_digit_change_breaks_the_elfproef(value: str, position: int, delta: int) -> None:
    # Changing digit i by delta changes the sum by w_i * delta; 11 is prime and divides
    # neither factor, so the 11-proof catches every single-digit error.
    new_digit = str((int(value[position]) + delta) % 10)
    changed = value[:position] + new_digit + value[position + 1 :]
    assert changed != value
    assert not reference_elfproef(changed)
    assert not is_valid_bsn(changed)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "12345678",  # 8 digits (a leading zero lost in a spreadsheet)
        "0123456782",  # 10 digits
        "1234567820",
        " 123456782",
        "123456782 ",
        "123456782\n",
        "1234-56782",
        "12345678a",
        "+23456782",
        "-23456782",
        "12345678²",  # superscript two: str.isdigit() is True for it
    ],
)
def test_wrong_length_and_non_digits_are_refused(value: str) -> None:
    assert not is_valid_bsn(value)
    with pytest.raises(InvalidBsnError):
        Bsn(value)


@pytest.mark.parametrize("alphabet", [ARABIC_INDIC, FULLWIDTH, DEVANAGARI])
@pytest.mark.parametrize("value", KNOWN_VALID)
def test_non_ascii_digits_are_refused(alphabet: str, value: str) -> None:
    lookalike = value.translate(str.maketrans(DIGITS, alphabet))
    # The trap is real: Python itself reads these as the same number.
    assert lookalike.isdigit() and int(lookalike) == int(value)
    assert not is_valid_bsn(lookalike)
    with pytest.raises(InvalidBsnError):
        Bsn(lookalike)


@pytest.mark.parametrize("value", [123456782, b"123456782", None, ["123456782"], 1.5])
def test_non_strings_are_refused(value: object) -> None:
    assert not is_valid_bsn(value)  # type: ignore[arg-type]
    with pytest.raises(InvalidBsnError):
        Bsn(value)  # type: ignore[arg-type]


@given(st.text(max_size=12))
def test_arbitrary_text_matches_reference(value: str) -> None:
    assert is_valid_bsn(value) == reference_elfproef(value)


# --- generate_valid_bsns ----------------------------------------------------------------


def test_generate_valid_bsns_yields_n_valid_values_deterministically() -> None:
    first = list(generate_valid_bsns(2000, seed=7))
    assert len(first) == 2000
    assert all(reference_elfproef(v) for v in first)
    assert first == list(generate_valid_bsns(2000, seed=7))
    assert first != list(generate_valid_bsns(2000, seed=8))
    assert len(set(first)) > 1990  # random draws, not a constant


def test_generate_valid_bsns_is_lazy_and_handles_zero() -> None:
    assert list(generate_valid_bsns(0, seed=1)) == []
    iterator = generate_valid_bsns(10**12, seed=1)  # would never finish if eager
    assert reference_elfproef(next(iterator))


# --- Bsn masking ---------------------------------------------------------------------------


@given(valid_bsns())
def test_bsn_textual_forms_are_masked(value: str) -> None:
    bsn = Bsn(value)
    renderings = [
        repr(bsn),
        str(bsn),
        f"{bsn}",
        f"{bsn!r}",
        f"{bsn!s}",
        f"{bsn:>20}",
        f"{bsn:^12}",
        format(bsn),
        # The old formatting styles are what this test is about.
        "{}".format(bsn),  # noqa: UP032
        "%s" % (bsn,),  # noqa: UP031
        "%r" % (bsn,),  # noqa: UP031
        repr([bsn]),
        repr({"subject": bsn}),
        str((bsn,)),
    ]
    for text in renderings:
        assert value not in text
    assert repr(bsn) == "Bsn(*********)"
    assert str(bsn) == "*********"
    assert f"{bsn:>12}" == "   *********"


def test_logging_a_bsn_shows_only_the_mask(caplog: pytest.LogCaptureFixture) -> None:
    bsn = Bsn("123456782")
    logger = logging.getLogger("test.pseudonymise.bsn")
    with caplog.at_level(logging.DEBUG, logger=logger.name):
        logger.info("child %s", bsn)
        logger.info("child %r", bsn)
        logger.info("subject: %s", {"bsn": bsn})
        logger.info(bsn)
    assert len(caplog.records) == 4
    assert "123456782" not in caplog.text
    assert "*********" in caplog.text


def test_digits_is_the_explicit_way_out() -> None:
    assert Bsn("111222333").digits == "111222333"


def test_equality_and_hash_use_the_value() -> None:
    assert Bsn("123456782") == Bsn("123456782")
    assert Bsn("123456782") != Bsn("111222333")
    assert Bsn("123456782") != "123456782"  # not equal to the plain string
    assert len({Bsn("123456782"), Bsn("123456782"), Bsn("111222333")}) == 2
    lookup = {Bsn("123456782"): "a"}
    assert lookup[Bsn("123456782")] == "a"


def test_bsn_is_immutable() -> None:
    bsn = Bsn("123456782")
    with pytest.raises(dataclasses.FrozenInstanceError):
        bsn._digits = "111222333"  # type: ignore[misc]
    with pytest.raises((AttributeError, TypeError)):
        bsn.other = 1  # type: ignore[attr-defined]
    assert bsn.digits == "123456782"


def test_invalid_bsn_error_never_contains_the_value() -> None:
    mistyped = "123456783"
    with pytest.raises(InvalidBsnError) as info:
        Bsn(mistyped)
    assert mistyped not in str(info.value)
    assert mistyped not in repr(info.value)
    assert info.value.code == "invalid_bsn"
    assert isinstance(info.value, PseudonymiseError)
