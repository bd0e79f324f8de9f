"""A BSN as a group element: the plaintext of a polymorphic pseudonym.

Every partner must map the same BSN to the same element, so the map is public and fixed:
``from_hash(SHA-512(label || digits))``. Its publicity is harmless because the element is
only ever sent encrypted; an attacker without keys sees ElGamal ciphertexts, which are
semantically secure, so trying all 10^9 BSNs gives it nothing to compare against.
"""

from __future__ import annotations

import hashlib

from pseudonymise.bsn import Bsn
from pseudonymise.pep import group

IDENTITY_LABEL = b"thuiszitterspact/pep/bsn/v1\x00"


def bsn_element(bsn: Bsn) -> bytes:
    """The group element of a (valid, masked) BSN."""
    if type(bsn) is not Bsn:
        raise TypeError("bsn_element() takes a Bsn, not a plain value")
    digest = hashlib.sha512(IDENTITY_LABEL + bsn.digits.encode("ascii")).digest()
    return group.hash_to_element(digest)
