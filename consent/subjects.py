"""A child's pseudonyms in one internal domain under every key version the gateway holds.

After a master-key rotation the same child gets a new pseudonym string, while records made
before keep the old one. Looking a child up under every version keeps those records in
force (a consent stays valid and withdrawable, a signal keeps matching) across a rotation,
without rewriting history.
"""

from __future__ import annotations

from pseudonymise import Bsn, DomainPseudonymiser, LinkTag, PseudonymiseError


class DomainSubjects:
    """Issues and widens pseudonyms of one domain; the BSN never leaves these calls."""

    def __init__(self, pseudonymiser: DomainPseudonymiser, domain: str = "consent") -> None:
        self.pseudonymiser = pseudonymiser
        self.domain = domain

    def refs(self, bsn: Bsn | LinkTag) -> list[str]:
        """The child's pseudonyms, current version first (by BSN, or by polymorphic tag)."""
        versions = sorted(self.pseudonymiser.keyring.versions, reverse=True)
        return [self.pseudonymiser.pseudonymise_child(bsn, self.domain, v) for v in versions]

    def aliases(self, subject_ref: str) -> list[str]:
        """Every pseudonym of the child behind ``subject_ref`` (just itself with one key)."""
        if len(self.pseudonymiser.keyring.versions) == 1:
            return [subject_ref]
        try:
            return self.refs(self.pseudonymiser.reveal_child(subject_ref, self.domain))
        except PseudonymiseError:
            return [subject_ref]
