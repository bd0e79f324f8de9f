"""Polymorphic encryption and pseudonymisation (PEP) on ristretto255.

The gateway's second pseudonymisation mode beside AES-SIV: partners encrypt a BSN under the
master public key, the gateway transcrypts it into the recipient's domain without seeing it,
and only the recipient can decrypt its own stable pseudonym. No Flask, no database.
"""

from pseudonymise.pep.elgamal import (
    CIPHERTEXT_BYTES,
    ElGamal,
    TranscryptionFactors,
    decrypt,
    encrypt,
    rekey,
    rerandomise,
    reshuffle,
    reshuffle_rekey,
    transcrypt,
)
from pseudonymise.pep.errors import (
    EncodingError,
    PepError,
    ProofError,
    UnknownDomainError,
    WrongKeyError,
)
from pseudonymise.pep.identity import bsn_element
from pseudonymise.pep.issuer import DomainFactors, KeyIssuer, KeyShare
from pseudonymise.pep.proofs import (
    EQUALITY_PROOF_BYTES,
    LINK_PROOF_BYTES,
    link_tag,
    prove_equal,
    prove_link,
    verify_equal,
    verify_link,
)

__all__ = [
    "CIPHERTEXT_BYTES",
    "EQUALITY_PROOF_BYTES",
    "LINK_PROOF_BYTES",
    "DomainFactors",
    "ElGamal",
    "EncodingError",
    "KeyIssuer",
    "KeyShare",
    "PepError",
    "ProofError",
    "TranscryptionFactors",
    "UnknownDomainError",
    "WrongKeyError",
    "bsn_element",
    "decrypt",
    "encrypt",
    "link_tag",
    "prove_equal",
    "prove_link",
    "rekey",
    "rerandomise",
    "reshuffle",
    "reshuffle_rekey",
    "transcrypt",
    "verify_equal",
    "verify_link",
]
