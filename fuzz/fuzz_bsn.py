"""Fuzz the BSN decoder: ``pseudonymise.bsn.is_valid_bsn`` and the ``Bsn`` value type.

Checks, for every string the input decodes to (UTF-8; invalid bytes become lone surrogates):
``is_valid_bsn`` never raises and agrees with a plain reference implementation of the elfproef
over ASCII digits (its byte arithmetic is an optimisation that must not change the answer,
e.g. for non-ASCII digits such as Arabic-Indic or fullwidth ones); ``Bsn(value)`` raises
``InvalidBsnError`` exactly when the value is not a BSN, with the fixed message (never the
input); an accepted ``Bsn`` never shows its digits in ``str``, ``repr`` or ``format``.
"""

from __future__ import annotations

from harness import FuzzTarget, instrumented, main

with instrumented("pseudonymise"):
    from pseudonymise.bsn import MASK, Bsn, is_valid_bsn
    from pseudonymise.errors import InvalidBsnError


def reference_is_valid(value: str) -> bool:
    if len(value) != 9 or any(c not in "0123456789" for c in value):
        return False
    digits = [ord(c) - ord("0") for c in value]
    total = sum(d * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True))
    return total != 0 and total % 11 == 0


def check(data: bytes) -> None:
    value = data.decode("utf-8", "surrogateescape")
    valid = is_valid_bsn(value)
    assert valid == reference_is_valid(value), "is_valid_bsn disagrees with the elfproef"
    assert is_valid_bsn(data) is False, "bytes are not a BSN"
    try:
        bsn = Bsn(value)
    except InvalidBsnError as refused:
        assert not valid, "a valid BSN was refused"
        assert str(refused) == InvalidBsnError.default_message, "the error quotes its input"
        return
    assert valid, "an invalid BSN was accepted"
    assert bsn.digits == value
    for shown in (str(bsn), repr(bsn), f"{bsn}", f"{bsn:>20}", "%s" % (bsn,)):  # noqa: UP031
        assert value not in shown and MASK in shown, "a Bsn showed its digits"
    assert Bsn(value) == bsn and hash(Bsn(value)) == hash(bsn)


TARGET = FuzzTarget("bsn", check, expected=(InvalidBsnError,), max_len=64)

if __name__ == "__main__":
    main(TARGET)
