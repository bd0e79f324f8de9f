"""Strict JSON parsing: every refusal of API.md section 1, and what stays accepted."""

import pytest

from gateway.strictjson import InvalidJsonError, loads, nesting_depth


def nested(depth: int) -> str:
    """An object nested ``depth`` containers deep, counting the top-level object as 1."""
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": 1, "a": 2}',
        b'{"outer": {"x": 1, "x": 1}}',
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b'{"a": -Infinity}',
        b'{"a": 1',
        b"",
        b"[1, 2]",
        b'"just a string"',
        b"42",
        b"null",
        b"\xff\xfe{}",
        b'\xef\xbb\xbf{"a": 1}',
        b"{'a': 1}",
        b'{"a": 1,}',
        b'{"a": 01}',
    ],
)
def test_refused(body):
    with pytest.raises(InvalidJsonError):
        loads(body)


def test_depth_32_accepted_and_33_refused():
    assert loads(nested(32))["a"]["a"]
    with pytest.raises(InvalidJsonError, match="nesting"):
        loads(nested(33))


def test_hundred_thousand_brackets_refused_without_recursion():
    with pytest.raises(InvalidJsonError):
        loads(b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}")


def test_brackets_inside_strings_do_not_count():
    text = '{"a": "' + "[" * 100 + '\\" {{{"}'
    assert nesting_depth(text) == 1
    assert loads(text)["a"].startswith("[[[")


def test_huge_integer_refused_not_crashing():
    with pytest.raises(InvalidJsonError):
        loads(b'{"a": ' + b"9" * 5000 + b"}")


def test_non_ascii_digits_are_not_numbers():
    with pytest.raises(InvalidJsonError):
        loads('{"a": \u0661\u0662}'.encode())


def test_valid_object_is_returned_with_types_kept():
    assert loads(b'{"n": 3, "f": 1.5, "s": "x", "l": [true, null]}') == {
        "n": 3,
        "f": 1.5,
        "s": "x",
        "l": [True, None],
    }


@pytest.mark.parametrize("number", [b"1e999", b"-1e999", b"1E400"])
def test_numbers_that_overflow_to_infinity_are_refused(number):
    with pytest.raises(InvalidJsonError):
        loads(b'{"a": ' + number + b"}")
