"""ElGamal on ristretto255 with the PEP operations (Verheul and Jacobs 2017; libpep).

A ciphertext is libpep's triple ``(b, c, y) = (r*G, M + r*Y, Y)``: the public key it is under
travels with it, so a transcryptor can check which key a ciphertext claims and a recipient
can refuse one that is not for it. The operations:

- ``rerandomise(ct)``: the same plaintext under fresh randomness (unlinkable to the input).
- ``reshuffle(ct, s)``: encrypts ``s*M``: pseudonymisation into the domain with factor ``s``.
- ``rekey(ct, k)``: the same plaintext, now decryptable with ``k*y`` instead of ``y``.
- ``reshuffle_rekey(ct, s, k)``: both in two scalar multiplications (libpep's ``rsk``).

Transcryption from domain A to domain B is ``reshuffle_rekey`` with ``s_B/s_A`` and
``k_B/k_A`` (see :class:`TranscryptionFactors`); from the master domain A's factors are 1.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

from pseudonymise.pep import group
from pseudonymise.pep.errors import EncodingError, WrongKeyError

CIPHERTEXT_BYTES = 3 * group.ELEMENT_BYTES


@dataclass(frozen=True, slots=True)
class ElGamal:
    """One ciphertext: ``b = r*G``, ``c = M + r*Y``, ``y = Y`` (the public key)."""

    b: bytes
    c: bytes
    y: bytes

    def to_bytes(self) -> bytes:
        return self.b + self.c + self.y

    @classmethod
    def from_bytes(cls, data: bytes) -> ElGamal:
        """Parse 96 bytes; every part must be a canonical, non-identity group element."""
        if type(data) is not bytes or len(data) != CIPHERTEXT_BYTES:
            raise EncodingError()
        return cls(group.element(data[:32]), group.element(data[32:64]), group.element(data[64:]))

    def to_base64(self) -> str:
        return encode_base64(self.to_bytes())

    @classmethod
    def from_base64(cls, text: str) -> ElGamal:
        return cls.from_bytes(decode_base64(text, CIPHERTEXT_BYTES))


def encode_base64(data: bytes) -> str:
    """Standard base64 with padding (RFC 4648 section 4), as libpep writes it."""
    return base64.b64encode(data).decode("ascii")


def decode_base64(text: object, length: int) -> bytes:
    """Strict standard base64 of exactly ``length`` bytes; one spelling per value."""
    if type(text) is not str or len(text) != 4 * ((length + 2) // 3) or not text.isascii():
        raise EncodingError()
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise EncodingError() from None
    if len(data) != length or encode_base64(data) != text:
        raise EncodingError()
    return data


def encrypt(message: bytes, public_key: bytes, randomness: bytes | None = None) -> ElGamal:
    """Encrypt the group element ``message`` under ``public_key``."""
    r = randomness if randomness is not None else group.random_scalar()
    return ElGamal(group.mul_base(r), group.add(message, group.mul(r, public_key)), public_key)


def decrypt(ciphertext: ElGamal, secret_key: bytes) -> bytes:
    """The plaintext element; ``WrongKeyError`` when the ciphertext is not under this key."""
    if group.mul_base(group.scalar(secret_key)) != ciphertext.y:
        raise WrongKeyError()
    return group.sub(ciphertext.c, group.mul(secret_key, ciphertext.b))


def rerandomise(ciphertext: ElGamal, randomness: bytes | None = None) -> ElGamal:
    r = randomness if randomness is not None else group.random_scalar()
    return ElGamal(
        group.add(ciphertext.b, group.mul_base(r)),
        group.add(ciphertext.c, group.mul(r, ciphertext.y)),
        ciphertext.y,
    )


def reshuffle(ciphertext: ElGamal, factor: bytes) -> ElGamal:
    return ElGamal(group.mul(factor, ciphertext.b), group.mul(factor, ciphertext.c), ciphertext.y)


def rekey(ciphertext: ElGamal, factor: bytes) -> ElGamal:
    return ElGamal(
        group.mul(group.scalar_invert(factor), ciphertext.b),
        ciphertext.c,
        group.mul(factor, ciphertext.y),
    )


@dataclass(frozen=True, slots=True)
class TranscryptionFactors:
    """Everything one transcryption needs, precomputed: ``s``, ``s/k`` and the output key.

    Made once per (source domain, target domain) pair, so a transcryption costs two scalar
    multiplications: ``(s/k * b, s * c, k * Y)``.
    """

    # never printed: one rekey factor and any organisation's key share give the master key
    reshuffle: bytes = field(repr=False)
    reshuffle_over_rekey: bytes = field(repr=False)
    source_key: bytes
    target_key: bytes

    @classmethod
    def between(
        cls,
        source_key: bytes,
        source: tuple[bytes, bytes] | None,
        target: tuple[bytes, bytes],
    ) -> TranscryptionFactors:
        """Factors from a domain with (reshuffle, rekey) ``source`` (None: master) to ``target``.

        ``source_key`` is the public key ciphertexts of the source domain are under.
        """
        s_target, k_target = target
        if source is None:
            s, k = s_target, k_target
        else:
            s_source, k_source = source
            s = group.scalar_mul(s_target, group.scalar_invert(s_source))
            k = group.scalar_mul(k_target, group.scalar_invert(k_source))
        return cls(
            reshuffle=s,
            reshuffle_over_rekey=group.scalar_mul(s, group.scalar_invert(k)),
            source_key=source_key,
            target_key=group.mul(k, source_key),
        )


def reshuffle_rekey(ciphertext: ElGamal, factors: TranscryptionFactors) -> ElGamal:
    """Pseudonymise into the target domain and re-encrypt for its key, in one step."""
    if ciphertext.y != factors.source_key:
        raise WrongKeyError()
    return ElGamal(
        group.mul(factors.reshuffle_over_rekey, ciphertext.b),
        group.mul(factors.reshuffle, ciphertext.c),
        factors.target_key,
    )


def transcrypt(
    ciphertext: ElGamal, factors: TranscryptionFactors, rerandomise_output: bool = False
) -> ElGamal:
    """``reshuffle_rekey``, optionally rerandomised so the output is unlinkable to the input."""
    result = reshuffle_rekey(ciphertext, factors)
    return rerandomise(result) if rerandomise_output else result
