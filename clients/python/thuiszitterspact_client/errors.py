"""Errors of the partner client.

Two families: :class:`GatewayError` for answers the gateway refused (they carry the gateway's
stable ``code``), and :class:`PepError` for local failures of the polymorphic cryptography.
Messages are fixed strings or come from the gateway: nothing the caller passed in (a BSN, a
ciphertext, a key) is ever echoed, so an error can be logged as it is.
"""

from __future__ import annotations

from collections.abc import Mapping


class ThuiszitterspactError(Exception):
    """Base class of every error this library raises on purpose."""


class GatewayError(ThuiszitterspactError):
    """The gateway answered with an error (RFC 9457 problem+json, or an OAuth error).

    ``code`` is the gateway's stable error code (``invalid_polymorphic``, ``invalid_client``,
    ...): branch on it, not on ``detail``, which is for people. ``errors`` holds per-field
    messages of a 422 validation problem.
    """

    def __init__(
        self,
        status: int,
        code: str,
        detail: str | None = None,
        errors: Mapping[str, list[str]] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = dict(errors) if errors else None
        super().__init__(f"{status} {code}" + (f": {detail}" if detail else ""))

    def __repr__(self) -> str:
        return f"GatewayError(status={self.status!r}, code={self.code!r})"


class InvalidBsnError(ThuiszitterspactError, ValueError):
    """A value that is not a BSN. The message never contains the refused value."""

    def __init__(self) -> None:
        super().__init__("Not a valid BSN: it must be nine ASCII digits passing the elfproef.")


class PepError(ThuiszitterspactError, ValueError):
    """A polymorphic value (ciphertext, key, pseudonym) that cannot be used."""

    code = "invalid_polymorphic"
    message = "The polymorphic value is not valid."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)


class EncodingError(PepError):
    """Bytes or text that are not a canonical encoding of what was expected."""

    message = "Not a valid encoding of a ristretto255 element, scalar or ciphertext."


class WrongKeyError(PepError):
    """A ciphertext that is not encrypted for this organisation's key share."""

    code = "wrong_key"
    message = (
        "This ciphertext is not encrypted for this organisation's public key; was the key "
        "share reissued, or is the item meant for another organisation?"
    )


class KeyShareError(PepError):
    """A key share that cannot be opened or does not fit the gateway's published keys."""

    code = "invalid_key_share"
    message = "The key share is not valid for this client or these public keys."
