"""The child's consent-domain pseudonyms under every key version the gateway holds.

After a master-key rotation the same child gets a new pseudonym string, while consents
recorded before keep the old one. Looking a child up under every version keeps those
consents in force (and withdrawable) across a rotation, without rewriting history.
"""

from __future__ import annotations

from pseudonymise import Bsn, DomainPseudonymiser, PseudonymiseError

DOMAIN = "consent"


class ConsentSubjects:
    """Issues and widens consent-domain pseudonyms; the BSN never leaves these calls."""

    def __init__(self, pseudonymiser: DomainPseudonymiser) -> None:
        self.pseudonymiser = pseudonymiser

    def refs(self, bsn: Bsn) -> list[str]:
        """The child's pseudonyms, current version first."""
        versions = sorted(self.pseudonymiser.keyring.versions, reverse=True)
        return [self.pseudonymiser.pseudonymise(bsn, DOMAIN, version) for version in versions]

    def aliases(self, subject_ref: str) -> list[str]:
        """Every pseudonym of the child behind ``subject_ref`` (just itself with one key)."""
        if len(self.pseudonymiser.keyring.versions) == 1:
            return [subject_ref]
        try:
            return self.refs(self.pseudonymiser.reveal(subject_ref, DOMAIN))
        except PseudonymiseError:
            return [subject_ref]
