"""Partner-side polymorphic operations for tests, written from docs/polymorphic.md.

A partner holds its key share (decryption key, link secret) and the public keys; these
helpers do what a partner system does with them, using ``pseudonymise.pep`` as the
reference implementation of the math (the e2e tests use the separate client library).
"""

from __future__ import annotations

import base64

from pseudonymise import Bsn, organisation_domain
from pseudonymise.pep import (
    ElGamal,
    KeyIssuer,
    bsn_element,
    decrypt,
    encrypt,
    group,
    link_tag,
    prove_equal,
    prove_link,
)
from pseudonymise.pep.elgamal import decode_base64, encode_base64

__all__ = ["decode_base64", "encode_base64"]


def polymorphic_subject(issuer: KeyIssuer, bsn: str, sender_oin: str) -> dict:
    """``{"polymorphic": ...}`` as a partner of ``sender_oin`` makes it."""
    secrets = issuer.secrets()
    element = bsn_element(Bsn(bsn))
    randomness = group.random_scalar()
    ciphertext = encrypt(element, issuer.master_public_key, randomness)
    tag = link_tag(element, secrets["link"])
    proof = prove_link(ciphertext, randomness, secrets["link"], tag, sender_oin.encode())
    return {"polymorphic": encode_base64(ciphertext.to_bytes() + tag + proof)}


def expected_pseudonym(issuer: KeyIssuer, bsn: str, oin: str) -> str:
    """The recipient's domain pseudonym, computed from the issuer's factors directly."""
    factors = issuer.factors(organisation_domain(oin))
    point = group.mul(factors.reshuffle, bsn_element(Bsn(bsn)))
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


def open_pseudonym(issuer: KeyIssuer, encrypted: str, oin: str) -> str:
    """What the recipient ``oin`` decrypts from a received ``encrypted_pseudonym``."""
    share = issuer.key_share(organisation_domain(oin))
    point = decrypt(ElGamal.from_base64(encrypted), share.secret_key)
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


def reply_subject(
    issuer: KeyIssuer, pseudonym: str, received_id: str, received_encrypted: str, oin: str
) -> dict:
    """``{"encrypted_pseudonym", "received_in"}``: reply by one's own pseudonym."""
    share = issuer.key_share(organisation_domain(oin))
    point = base64.urlsafe_b64decode(pseudonym + "=")
    new = encrypt(point, share.public_key)
    old = ElGamal.from_base64(received_encrypted)
    proof = prove_equal(new, old, share.secret_key, f"{oin}|{received_id}".encode())
    return {
        "encrypted_pseudonym": encode_base64(new.to_bytes() + proof),
        "received_in": received_id,
    }


def tamper(value: str, byte_index: int) -> str:
    """The same base64 value with one byte flipped (for refused-proof tests)."""
    raw = bytearray(decode_base64(value, len(base64.b64decode(value))))
    raw[byte_index] ^= 0x01
    return encode_base64(bytes(raw))
