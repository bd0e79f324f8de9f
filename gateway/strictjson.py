"""Strict JSON parsing for the API (API.md section 1).

Python's ``json`` module accepts duplicate keys (last one wins), ``NaN`` and ``Infinity``, and
recurses once per nesting level, so a body of 100,000 brackets becomes a ``RecursionError``
(a 500). A gateway that forwards data between organisations must not guess which duplicate was
meant, so each of these is refused as ``invalid_json`` before anything else looks at the body.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate

MAX_DEPTH = 32
# A string, or an unterminated one up to the end of the text. The quantifiers are possessive
# and the closing quote optional, so a match never fails once it has started at a quote and
# never backtracks: one pass over the text. (``"(?:[^"\\]|\\.)*"``, without the two, cost
# O(n^2) on an unterminated run of escaped quotes: a match attempt scanned to the end and
# failed at every quote, and 256 KiB of ``\"`` held the GIL for minutes.)
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class InvalidJsonError(ValueError):
    """The body is not strict JSON; the message says why without quoting the body."""

    code = "invalid_json"


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise InvalidJsonError("duplicate key in object")
        result[key] = value
    return result


def _no_constants(name: str) -> None:
    raise InvalidJsonError(f"{name} is not allowed")


def _finite_float(text: str) -> float:
    """``1e999`` parses to infinity in Python: as much a non-number as ``Infinity`` itself."""
    value = float(text)
    if value in (math.inf, -math.inf):
        raise InvalidJsonError("a number is out of range")
    return value


def nesting_depth(text: str) -> int:
    """The deepest container nesting in ``text``, ignoring brackets inside strings.

    Measured on the text, not on a parsed value, so that a body of 100,000 brackets never
    reaches the recursive decoder. Linear time in C loops (regex substitutions, ``map`` and
    ``accumulate``), whatever the text: it is the first thing any partner's body meets, and
    the gthread workers share one GIL with their health checks.
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if not brackets:
        return 0
    return max(0, max(accumulate(map(_STEP.__getitem__, brackets))))


def loads(raw: bytes | str, *, max_depth: int = MAX_DEPTH, require_object: bool = True) -> object:
    """Parse ``raw`` strictly; raise :class:`InvalidJsonError` for anything API.md refuses."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidJsonError("body is not valid UTF-8") from None
    else:
        text = raw
    if text.startswith("\ufeff"):
        raise InvalidJsonError("a byte order mark is not allowed")
    if nesting_depth(text) > max_depth:
        raise InvalidJsonError(f"nesting deeper than {max_depth} containers")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constants,
            parse_float=_finite_float,
        )
    except InvalidJsonError:
        raise
    except (ValueError, RecursionError):
        raise InvalidJsonError("body is not valid JSON") from None
    if require_object and not isinstance(value, dict):
        raise InvalidJsonError("the top level must be a JSON object")
    return value
