"""The BSN elfproef (eleven test), kept here so the schemas package stands alone.

``pseudonymise`` has its own BSN value type; the schemas only need to know whether a string
is syntactically a BSN, so they carry this small pure check instead of importing it.
"""

from __future__ import annotations

import re

_NINE_ASCII_DIGITS = re.compile(r"[0-9]{9}")
_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


def is_valid_bsn(value: object) -> bool:
    """True when ``value`` is a string of nine ASCII digits that passes the elfproef.

    The elfproef weighs the digits 9, 8, ..., 2 and -1; the sum must be divisible by 11.
    Nine zeros pass that arithmetic but are never issued, so they are refused.
    """
    if not isinstance(value, str) or not _NINE_ASCII_DIGITS.fullmatch(value):
        return False
    if value == "000000000":
        return False
    total = sum(weight * int(digit) for weight, digit in zip(_WEIGHTS, value, strict=True))
    return total % 11 == 0
