"""The two zero-knowledge proofs a partner makes (docs/polymorphic.md, "Wire format").

- :func:`prove_link`: the link tag ``t*M`` sent beside a polymorphic ciphertext belongs to the
  child that ciphertext encrypts. The gateway needs the tag to check consent and match
  signals without seeing the BSN; the proof stops a sender from attaching another child's tag.
- :func:`prove_equal`: a reply "by pseudonym" encrypts the same child as an exchange the
  organisation received, proven with its own secret key (Chaum-Pedersen).

Both are Fiat-Shamir proofs over :func:`group.hash_to_scalar` and bind a context string, so
a proof cannot be replayed for another sender or another exchange.
"""

from __future__ import annotations

from dataclasses import dataclass

from thuiszitterspact_client import group
from thuiszitterspact_client.errors import EncodingError, PepError

LINK_LABEL = b"thuiszitterspact/pep/link-proof/v1"
EQUALITY_LABEL = b"thuiszitterspact/pep/equality-proof/v1"
CIPHERTEXT_BYTES = 3 * group.ELEMENT_BYTES
LINK_PROOF_BYTES = 4 * group.SCALAR_BYTES
EQUALITY_PROOF_BYTES = 2 * group.SCALAR_BYTES


@dataclass(frozen=True, slots=True)
class Ciphertext:
    """libpep's ElGamal triple ``b || c || y`` = ``r*G || M + r*Y || Y``.

    ``y`` is the public key the ciphertext is under; it travels along so a recipient can tell
    at once whether a ciphertext is meant for it.
    """

    b: bytes
    c: bytes
    y: bytes

    def to_bytes(self) -> bytes:
        return self.b + self.c + self.y

    @classmethod
    def from_bytes(cls, data: bytes) -> Ciphertext:
        """Parse 96 bytes; each part must be a canonical, non-identity element."""
        if type(data) is not bytes or len(data) != CIPHERTEXT_BYTES:
            raise EncodingError()
        return cls(group.element(data[:32]), group.element(data[32:64]), group.element(data[64:]))


def encrypt(message: bytes, public_key: bytes, randomness: bytes) -> Ciphertext:
    """ElGamal encryption of the element ``message`` under ``public_key``."""
    return Ciphertext(
        group.mul_base(randomness),
        group.add(message, group.mul(randomness, public_key)),
        public_key,
    )


def decrypt(ciphertext: Ciphertext, secret_key: bytes) -> bytes:
    """``c - x*b``; the caller has checked that ``ciphertext.y == x*G``."""
    return group.sub(ciphertext.c, group.mul(secret_key, ciphertext.b))


def prove_link(
    ciphertext: Ciphertext, randomness: bytes, link_secret: bytes, tag: bytes, context: bytes
) -> bytes:
    """Proof ``e || z_r || z_t || z_u`` of ``b = r*G``, ``T = t*G``, ``tag = t*c - u*Y`` and
    ``O = u*G - t*b`` with witnesses ``r``, ``t`` and ``u = t*r``."""
    r, t = randomness, link_secret
    u = group.scalar_mul(t, r)
    a_r, a_t, a_u = group.random_scalar(), group.random_scalar(), group.random_scalar()
    commitments = (
        group.mul_base(a_r),
        group.mul_base(a_t),
        group.sub(group.mul(a_t, ciphertext.c), group.mul(a_u, ciphertext.y)),
        group.sub(group.mul_base(a_u), group.mul(a_t, ciphertext.b)),
    )
    e = group.hash_to_scalar(
        LINK_LABEL, context, ciphertext.to_bytes(), group.mul_base(t), tag, *commitments
    )
    return (
        e
        + group.scalar_add(a_r, group.scalar_mul(e, r))
        + group.scalar_add(a_t, group.scalar_mul(e, t))
        + group.scalar_add(a_u, group.scalar_mul(e, u))
    )


def prove_equal(new: Ciphertext, old: Ciphertext, secret_key: bytes, context: bytes) -> bytes:
    """Proof ``e || z`` that ``new`` and ``old`` (both under ``Y_R = y_R*G``) hold one element.

    Their difference ``(Δb, Δc)`` encrypts the identity exactly when ``Δc = y_R*Δb``, so this
    proves ``log_G(Y_R) = log_Δb(Δc)`` with witness ``y_R``.
    """
    if new.y != old.y:
        raise PepError("Both ciphertexts must be under the same public key.")
    delta_b = group.sub(new.b, old.b)
    if delta_b == group.IDENTITY:
        raise PepError("The new ciphertext must use fresh randomness.")
    a = group.random_scalar()
    commitments = (group.mul_base(a), group.mul(a, delta_b))
    e = group.hash_to_scalar(EQUALITY_LABEL, context, new.to_bytes(), old.to_bytes(), *commitments)
    return e + group.scalar_add(a, group.scalar_mul(e, secret_key))
