"""Strict base64: every byte string has exactly one accepted spelling on the wire.

Why strict: the gateway compares and hashes what partners send, so a second spelling of the
same bytes (missing padding, a stray newline, non-zero trailing bits) would either be
refused there or, worse, treated as a different value. We refuse it here first.
"""

from __future__ import annotations

import base64
import binascii

from thuiszitterspact_client.errors import EncodingError

#: A domain pseudonym as text: 32 bytes in base64url without padding.
PSEUDONYM_CHARS = 43


def encode(data: bytes) -> str:
    """Standard base64 with padding (RFC 4648 section 4)."""
    return base64.b64encode(data).decode("ascii")


def decode(text: object, length: int) -> bytes:
    """Strict standard base64 of exactly ``length`` bytes."""
    if type(text) is not str or len(text) != 4 * ((length + 2) // 3) or not text.isascii():
        raise EncodingError()
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise EncodingError() from None
    if len(data) != length or encode(data) != text:
        raise EncodingError()
    return data


def encode_url(data: bytes) -> str:
    """base64url without padding (RFC 4648 section 5): the pseudonym's text form."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode_url(text: object, length: int) -> bytes:
    """Strict base64url without padding of exactly ``length`` bytes."""
    if type(text) is not str or not text.isascii() or "=" in text:
        raise EncodingError()
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise EncodingError() from None
    if len(data) != length or encode_url(data) != text:
        raise EncodingError()
    return data
