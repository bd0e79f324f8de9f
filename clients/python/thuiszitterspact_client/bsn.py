"""The BSN check (elfproef) and the BSN's group element.

The BSN is the one value that must never leave the partner's system in the clear: it is
checked here, turned into a group element and encrypted, and no error, ``repr`` or log line
of this library ever contains it.
"""

from __future__ import annotations

import hashlib

from thuiszitterspact_client import group
from thuiszitterspact_client.errors import InvalidBsnError

#: Domain separation of the BSN map; every partner and the gateway use this same label.
IDENTITY_LABEL = b"thuiszitterspact/pep/bsn/v1\x00"
_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


def is_valid_bsn(value: object) -> bool:
    """Nine ASCII digits whose elfproef sum is divisible by 11 and not 0.

    ``sum(d_i * (9 - i) for i < 8) - d_8``; a zero sum (``000000000`` among others) is refused,
    as the gateway does. Only ASCII digits count: ``str.isdigit`` alone would accept fullwidth
    or Arabic-Indic digits, which map to a different element than the ASCII form.
    """
    if type(value) is not str or len(value) != 9 or not value.isascii() or not value.isdigit():
        return False
    total = sum(weight * int(digit) for weight, digit in zip(_WEIGHTS, value, strict=True))
    return total != 0 and total % 11 == 0


def check_bsn(value: object) -> str:
    """``value`` if it is a BSN; otherwise ``InvalidBsnError`` (which never names the value)."""
    if not is_valid_bsn(value):
        raise InvalidBsnError()
    return value  # type: ignore[return-value]


def bsn_element(value: str) -> bytes:
    """``M = from_hash(SHA-512(label || nine ASCII digits))``: the child's plaintext element.

    The map is public and fixed so that every partner derives the same element; it only ever
    travels encrypted, so its publicity gives an eavesdropper nothing to test BSNs against.
    """
    digits = check_bsn(value)
    return group.from_hash(hashlib.sha512(IDENTITY_LABEL + digits.encode("ascii")).digest())
