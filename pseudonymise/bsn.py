"""The BSN (burgerservicenummer) value type and its elfproef.

Why a value type instead of plain ``str``: a BSN is the one identifier that must never cross a
boundary (log line, metric label, audit event, URL, error message). A ``Bsn`` masks itself in
``repr``, ``str`` and ``format``, so an accidental ``log.info("%s", bsn)`` or ``f"{bsn}"``
prints ``*********``. The digits come out only through the explicit ``.digits`` property,
which makes every real use greppable and reviewable.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from pseudonymise.errors import InvalidBsnError

__all__ = ["MASK", "Bsn", "generate_valid_bsns", "is_valid_bsn"]

MASK = "*********"

# Elfproef weights 9, 8, ..., 2, -1. Every byte of an ASCII digit string is the digit plus 48
# (``ord("0")``); the weights sum to 43, so subtracting 48 * 43 once turns the weighted sum of
# the bytes into the weighted sum of the digits without converting each character.
_ASCII_ZERO_OFFSET = 48 * 43


def is_valid_bsn(value: str) -> bool:
    """Tell whether ``value`` is a BSN: exactly nine ASCII digits passing the elfproef.

    The elfproef: sum(d_i * w_i) with weights 9, 8, 7, 6, 5, 4, 3, 2, -1 is divisible by 11
    and not 0 (so ``000000000`` is refused). Only ASCII ``0-9`` count as digits:
    ``str.isdigit`` alone would accept Arabic-Indic, fullwidth or superscript digits, which no
    register issues and which would pseudonymise to a different string than the ASCII form.

    This function is on the hot path of bulk pseudonymisation, hence the byte arithmetic.
    """
    if type(value) is not str or len(value) != 9 or not value.isascii() or not value.isdigit():
        return False
    b = value.encode("ascii")
    total = (
        9 * b[0] + 8 * b[1] + 7 * b[2] + 6 * b[3] + 5 * b[4] + 4 * b[5] + 3 * b[6] + 2 * b[7] - b[8]
    ) - _ASCII_ZERO_OFFSET
    return total != 0 and total % 11 == 0


@dataclass(frozen=True, slots=True, init=False, repr=False)
class Bsn:
    """A validated BSN whose textual forms are masked.

    ``Bsn("123456782")`` raises ``InvalidBsnError`` for anything that is not a BSN. Equality and
    hashing use the digits, so a ``Bsn`` can be a dictionary key or set member.
    """

    _digits: str = field(repr=False)

    def __init__(self, value: str) -> None:
        if not is_valid_bsn(value):
            # The message is fixed: the refused value may be someone's mistyped BSN.
            raise InvalidBsnError()
        object.__setattr__(self, "_digits", value)

    @property
    def digits(self) -> str:
        """The nine digits. The only way out: use it where the plaintext is really needed."""
        return self._digits

    def __repr__(self) -> str:
        return f"Bsn({MASK})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, format_spec: str) -> str:
        return format(MASK, format_spec)


def generate_valid_bsns(n: int, seed: int = 0) -> Iterator[str]:
    """Yield ``n`` valid BSNs, deterministically for a given ``seed`` (for tests and benches).

    Draws eight random digits and computes the ninth so that the elfproef holds; a draw whose
    check digit would be 10, or whose weighted sum would be 0, is skipped. Prefixes are drawn
    with replacement, so values may (rarely) repeat. The generated numbers are syntactically
    valid and may coincide with issued BSNs, but they are drawn at random: this is test data,
    not for anything secret.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    rng = random.Random(seed)  # noqa: S311 -- test data, deliberately reproducible
    produced = 0
    while produced < n:
        head = rng.randrange(100_000_000)
        prefix = f"{head:08d}"
        weighted = sum(int(c) * w for c, w in zip(prefix, range(9, 1, -1), strict=True))
        # total = weighted - check must be a non-zero multiple of 11 with 0 <= check <= 9.
        check = weighted % 11
        if check == 10 or weighted == check:
            continue
        produced += 1
        yield f"{prefix}{check}"
