"""Errors raised by the pseudonymise package.

Every error carries a stable machine-readable ``code`` so the HTTP layer can map it to an API
error code without parsing messages. Messages are fixed texts on purpose: they never contain
a BSN or a pseudonym, because exception messages end up in logs, tracebacks and error
responses, which are exactly the places a child's identifier must not leak to. The messages
are also deliberately vague about *why* a pseudonym was refused (wrong domain, tampered,
unknown key version), so that an error response is no oracle for probing pseudonyms.
"""

from __future__ import annotations

__all__ = [
    "BulkInputError",
    "InvalidBsnError",
    "PseudonymiseError",
    "UnknownKeyVersionError",
    "UnknownPseudonymError",
]


class PseudonymiseError(Exception):
    """Base class of every error this package raises on purpose."""

    code: str = "pseudonymise_error"
    default_message: str = "pseudonymisation failed"

    def __init__(self, message: str | None = None) -> None:
        # Callers may pass a message, but it must never contain a BSN or a pseudonym; the
        # defaults are safe fixed texts.
        super().__init__(message if message is not None else self.default_message)


class InvalidBsnError(PseudonymiseError):
    """A value is not a BSN: not exactly nine ASCII digits, or it fails the elfproef."""

    code = "invalid_bsn"
    default_message = "value is not a valid BSN"


class UnknownPseudonymError(PseudonymiseError):
    """A pseudonym is malformed, tampered with, of an unknown key version, or of another domain.

    One error for all of these cases: a caller (or an attacker) learns nothing about which
    check failed.
    """

    code = "unknown_pseudonym"
    default_message = "unknown pseudonym"


class UnknownKeyVersionError(UnknownPseudonymError):
    """A key version is not in the key ring.

    It is an ``UnknownPseudonymError`` because, seen from the API, a pseudonym issued under
    a key version this gateway does not hold is simply a pseudonym it does not know.
    """

    default_message = "unknown key version"


class BulkInputError(PseudonymiseError):
    """The bulk input as a whole is unusable (no header, missing or ambiguous column)."""

    code = "invalid_input"
    default_message = "invalid bulk input"
