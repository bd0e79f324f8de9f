"""Paging of list answers (API.md section 1): ``limit`` 1..500 (default 50) and opaque
cursors.

A cursor is the position (a row's ``seq``) after which the next page starts, behind a
one-letter mark of the list that issued it, base64url without padding. The mark keeps a
cursor of one list from being replayed on another; the strict decoding keeps anything not
issued here a 400 ``invalid_parameter`` that names ``cursor``, never a 500.
"""

from __future__ import annotations

import base64
import re

from .problems import InvalidParameter

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
_LIMIT = re.compile(r"[0-9]{1,3}")
_MAX_DIGITS = 19


def parse_limit(raw: str | None) -> int:
    """``limit`` from a query string: absent -> 50; 1..500; anything else a 400."""
    if raw is None:
        return DEFAULT_LIMIT
    if not _LIMIT.fullmatch(raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidParameter(
            "limit must be an integer from 1 to 500.", errors={"limit": ["Must be 1..500."]}
        )
    return int(raw)


class Cursors:
    """The cursors of one list, marked with ``mark`` (one letter per list)."""

    def __init__(self, mark: str) -> None:
        if len(mark) != 1 or not mark.isalpha():
            raise ValueError("a cursor mark is one letter")
        self.mark = mark

    def encode(self, seq: int) -> str:
        return base64.urlsafe_b64encode(f"{self.mark}{seq}".encode()).decode().rstrip("=")

    def decode(self, cursor: str | None) -> int:
        """The position after which the next page starts (0 for the first page)."""
        if cursor is None:
            return 0
        try:
            text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        except (ValueError, UnicodeDecodeError):
            text = ""
        digits = text[1:]
        if (
            text[:1] != self.mark
            or not digits.isascii()
            or not digits.isdigit()
            or len(digits) > _MAX_DIGITS
        ):
            raise InvalidParameter(
                "The cursor is not valid.", errors={"cursor": ["Not a cursor this API issued."]}
            )
        return int(digits)
