"""BSN validation, domain key derivation and rotation, pseudonyms, bulk pseudonymisation.

A pure domain package: no Flask, no database. The gateway's web and storage layers call into
it; it never calls out. See ``pseudonymise.pseudonym`` for the pseudonym format and the key
rotation semantics.
"""

from pseudonymise import errors
from pseudonymise.bsn import Bsn, generate_valid_bsns, is_valid_bsn
from pseudonymise.bulk import BulkResult, pseudonymise_csv
from pseudonymise.errors import (
    BulkInputError,
    InvalidBsnError,
    PseudonymiseError,
    UnknownKeyVersionError,
    UnknownPseudonymError,
)
from pseudonymise.keys import KeyRing
from pseudonymise.link import LinkTag
from pseudonymise.pseudonym import DomainPseudonymiser, organisation_domain

__all__ = [
    "Bsn",
    "BulkInputError",
    "BulkResult",
    "DomainPseudonymiser",
    "InvalidBsnError",
    "KeyRing",
    "LinkTag",
    "PseudonymiseError",
    "UnknownKeyVersionError",
    "UnknownPseudonymError",
    "errors",
    "generate_valid_bsns",
    "is_valid_bsn",
    "organisation_domain",
    "pseudonymise_csv",
]
