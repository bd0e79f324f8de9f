"""The ristretto255 prime-order group, through libsodium (pysodium): no curve code here.

Why ristretto255: every 32-byte string is either exactly one group element or refused, which
ElGamal and pseudonymisation rely on, and it is the group the gateway (and libpep) use. The
identity element is refused wherever an element comes in: a ciphertext with an identity
part would carry its plaintext in the clear.
"""

from __future__ import annotations

import hashlib

import pysodium

from thuiszitterspact_client.errors import EncodingError

ELEMENT_BYTES = 32
SCALAR_BYTES = 32
HASH_BYTES = 64
#: The group order L = 2^252 + 27742317777372353535851937790883648493.
ORDER = 2**252 + 27742317777372353535851937790883648493
IDENTITY = bytes(ELEMENT_BYTES)


def element(data: object) -> bytes:
    """``data`` if it is the canonical encoding of a group element other than the identity.

    Bit 255 is checked here because libsodium 1.0.18's ``is_valid_point`` ignores it, which
    would accept a second spelling of every element.
    """
    if (
        type(data) is not bytes
        or len(data) != ELEMENT_BYTES
        or data[31] & 0x80
        or data == IDENTITY
        or not pysodium.crypto_core_ristretto255_is_valid_point(data)
    ):
        raise EncodingError()
    return data


def scalar(data: object) -> bytes:
    """``data`` if it is a canonical, non-zero scalar (32 bytes little-endian, below L)."""
    if type(data) is not bytes or len(data) != SCALAR_BYTES:
        raise EncodingError()
    if not 0 < int.from_bytes(data, "little") < ORDER:
        raise EncodingError()
    return data


def random_scalar() -> bytes:
    """A uniformly random non-zero scalar from libsodium's CSPRNG."""
    while True:
        value = pysodium.crypto_core_ristretto255_scalar_random()
        if value != IDENTITY:
            return value


def hash_to_scalar(*parts: bytes) -> bytes:
    """SHA-512 over each part prefixed by its 4-byte big-endian length, reduced modulo L.

    The length prefixes make the encoding of the parts unambiguous, so no two different
    statements hash alike.
    """
    digest = hashlib.sha512()
    for part in parts:
        digest.update(len(part).to_bytes(4, "big"))
        digest.update(part)
    return pysodium.crypto_core_ristretto255_scalar_reduce(digest.digest())


def from_hash(data: bytes) -> bytes:
    """libsodium's map of 64 uniform bytes (e.g. a SHA-512 digest) to a group element."""
    if type(data) is not bytes or len(data) != HASH_BYTES:
        raise EncodingError()
    return pysodium.crypto_core_ristretto255_from_hash(data)


def mul(factor: bytes, point: bytes) -> bytes:
    """``factor * point``; libsodium refuses a result equal to the identity."""
    try:
        return pysodium.crypto_scalarmult_ristretto255(factor, point)
    except ValueError:
        raise EncodingError() from None


def mul_base(factor: bytes) -> bytes:
    """``factor * G``, G the standard generator."""
    try:
        return pysodium.crypto_scalarmult_ristretto255_base(factor)
    except ValueError:
        raise EncodingError() from None


def add(left: bytes, right: bytes) -> bytes:
    return pysodium.crypto_core_ristretto255_add(left, right)


def sub(left: bytes, right: bytes) -> bytes:
    return pysodium.crypto_core_ristretto255_sub(left, right)


def scalar_add(left: bytes, right: bytes) -> bytes:
    return pysodium.crypto_core_ristretto255_scalar_add(left, right)


def scalar_mul(left: bytes, right: bytes) -> bytes:
    return pysodium.crypto_core_ristretto255_scalar_mul(left, right)
