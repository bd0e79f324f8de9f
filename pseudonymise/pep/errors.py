"""Errors of polymorphic pseudonymisation; each carries a stable ``code``.

Messages are fixed strings: nothing about the input (a ciphertext, a proof) is echoed, so an
error can be logged or shown without leaking what was sent.
"""

from __future__ import annotations

from pseudonymise.errors import PseudonymiseError


class PepError(PseudonymiseError):
    """Base class for polymorphic pseudonymisation errors."""

    code = "invalid_polymorphic"
    message = "The polymorphic pseudonym is not valid."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)


class EncodingError(PepError):
    """Bytes that are not a canonical group element, scalar or ciphertext."""

    message = "Not a valid encoding of a ristretto255 element, scalar or ciphertext."


class ProofError(PepError):
    """A zero-knowledge proof that does not verify."""

    message = "The proof does not verify for this ciphertext."


class WrongKeyError(PepError):
    """Decryption with a key the ciphertext was not encrypted for."""

    code = "wrong_key"
    message = "This ciphertext was not encrypted for this key."


class UnknownDomainError(PepError):
    """A domain for which the key issuer has issued no factors."""

    code = "unknown_domain"
    message = "No polymorphic keys were issued for this domain."
