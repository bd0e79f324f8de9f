"""The ristretto255 prime-order group, through libsodium (pysodium): no curve code here.

Why ristretto255: a prime-order group over Curve25519 with canonical encodings, so every
32-byte string either is exactly one group element or is refused; ElGamal and its
pseudonymisation (reshuffle) need that, and it is what PEP (Verheul and Jacobs 2017) and
libpep use. Elements and scalars travel as their 32-byte encodings; the functions here check
every encoding that comes from outside and refuse the identity element, which would let a
ciphertext carry its plaintext in the clear.
"""

from __future__ import annotations

import ctypes
import hashlib
import hmac
from ctypes import create_string_buffer as _buffer

import pysodium
from pysodium import crypto_core_ristretto255_add as _add
from pysodium import crypto_core_ristretto255_from_hash as _from_hash
from pysodium import crypto_core_ristretto255_is_valid_point as _is_valid_point
from pysodium import crypto_core_ristretto255_scalar_add as _scalar_add
from pysodium import crypto_core_ristretto255_scalar_invert as _scalar_invert
from pysodium import crypto_core_ristretto255_scalar_mul as _scalar_mul
from pysodium import crypto_core_ristretto255_scalar_random as _scalar_random
from pysodium import crypto_core_ristretto255_scalar_reduce as _scalar_reduce
from pysodium import crypto_core_ristretto255_scalar_sub as _scalar_sub
from pysodium import crypto_core_ristretto255_sub as _sub
from pysodium import crypto_scalarmult_ristretto255_base as _scalarmult_base

from pseudonymise.pep.errors import EncodingError

ELEMENT_BYTES = 32
SCALAR_BYTES = 32
#: The order of the group (2^252 + 27742317777372353535851937790883648493).
ORDER = 2**252 + 27742317777372353535851937790883648493
IDENTITY = bytes(ELEMENT_BYTES)

_c_scalarmult = pysodium.sodium.crypto_scalarmult_ristretto255
_c_scalarmult.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p)
_c_scalarmult.restype = ctypes.c_int


def element(data: bytes) -> bytes:
    """``data`` if it is the canonical encoding of a group element other than the identity."""
    if (
        type(data) is not bytes
        or len(data) != ELEMENT_BYTES
        or data == IDENTITY
        or data[31] & 0x80  # libsodium 1.0.18 ignores this bit: two spellings per element
        or not _is_valid_point(data)
    ):
        raise EncodingError()
    return data


def scalar(data: bytes) -> bytes:
    """``data`` if it is a canonical, non-zero scalar (little-endian, below the order)."""
    if type(data) is not bytes or len(data) != SCALAR_BYTES:
        raise EncodingError()
    value = int.from_bytes(data, "little")
    if not 0 < value < ORDER:
        raise EncodingError()
    return data


def random_scalar() -> bytes:
    """A uniformly random non-zero scalar from libsodium's CSPRNG."""
    while True:
        value = _scalar_random()
        if value != IDENTITY:
            return value


def hash_to_scalar(*parts: bytes) -> bytes:
    """SHA-512 of the length-prefixed parts, reduced modulo the order (never zero in practice)."""
    digest = hashlib.sha512()
    for part in parts:
        digest.update(len(part).to_bytes(4, "big"))
        digest.update(part)
    return _scalar_reduce(digest.digest())


def keyed_scalar(key: bytes, label: str) -> bytes:
    """HMAC-SHA512(key, label) reduced modulo the order: a secret factor per label."""
    return _scalar_reduce(hmac.digest(key, label.encode("utf-8"), "sha512"))


def hash_to_element(data: bytes) -> bytes:
    """Elligator map of 64 uniform bytes to a group element (libsodium's from_hash)."""
    return _from_hash(data)


def mul(factor: bytes, point: bytes) -> bytes:
    """``factor * point``. libsodium refuses an invalid point and an identity result.

    The hot path of transcryption (two per message): it calls the libsodium function that
    pysodium loaded directly, without pysodium's per-call version check and wrapper (about
    5 % of a multiplication, bench/bench_pep.py), with the same length checks.
    """
    if type(factor) is not bytes or type(point) is not bytes:
        raise EncodingError()
    if len(factor) != SCALAR_BYTES or len(point) != ELEMENT_BYTES:
        raise EncodingError()
    out = _buffer(ELEMENT_BYTES)
    if _c_scalarmult(out, factor, point) != 0:
        raise EncodingError()
    return out.raw


def mul_base(factor: bytes) -> bytes:
    """``factor * G``, G the standard generator."""
    return _scalarmult_base(factor)


def add(left: bytes, right: bytes) -> bytes:
    return _add(left, right)


def sub(left: bytes, right: bytes) -> bytes:
    return _sub(left, right)


def scalar_mul(left: bytes, right: bytes) -> bytes:
    return _scalar_mul(left, right)


def scalar_add(left: bytes, right: bytes) -> bytes:
    return _scalar_add(left, right)


def scalar_sub(left: bytes, right: bytes) -> bytes:
    return _scalar_sub(left, right)


def scalar_invert(value: bytes) -> bytes:
    return _scalar_invert(value)
