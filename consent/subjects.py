"""A child's pseudonyms in one internal domain under every key version the gateway holds.

After a master-key rotation the same child gets a new pseudonym string, while records made
before keep the old one. Looking a child up under every version keeps those records in
force (a consent stays valid and withdrawable, a signal keeps matching) across a rotation,
without rewriting history.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from pseudonymise import Bsn, DomainPseudonymiser, LinkTag, PseudonymiseError

RECEIPT_KEY_PURPOSE = "consent-receipt"


class DomainSubjects:
    """Issues and widens pseudonyms of one domain; the BSN never leaves these calls."""

    def __init__(self, pseudonymiser: DomainPseudonymiser, domain: str = "consent") -> None:
        self.pseudonymiser = pseudonymiser
        self.domain = domain

    def refs(self, bsn: Bsn | LinkTag) -> list[str]:
        """The child's pseudonyms, current version first (by BSN, or by polymorphic tag)."""
        return list(self.pseudonymiser.pseudonymise_child_versions(bsn, self.domain))

    def aliases(self, subject_ref: str) -> list[str]:
        """Every pseudonym of the child behind ``subject_ref`` (just itself with one key)."""
        if len(self.pseudonymiser.keyring.versions) == 1:
            return [subject_ref]
        try:
            return self.refs(self.pseudonymiser.reveal_child(subject_ref, self.domain))
        except PseudonymiseError:
            return [subject_ref]

    def receipt_ref(self, consent_id: str, subject_ref: str) -> str:
        """The child as one consent's receipt names it: a keyed value per consent.

        API.md section 13, rule 1: a receipt may carry no value that is the same for every
        consent of a child, since each party of each consent sees the receipt. This value is
        an HMAC (key ``consent-receipt`` of the current version) over the consent id and the
        stored consent-domain pseudonym, so it differs per consent, cannot be computed or
        tested against a guessed BSN without the gateway's key, and still binds the receipt
        to its child: the gateway recomputes it from the registry (:meth:`binds`).
        Format: ``base64url(version byte || 24 bytes of HMAC-SHA256)``.
        """
        version = self.pseudonymiser.keyring.current_version
        return self._receipt_ref(consent_id, subject_ref, version)

    def binds(self, value: str, consent_id: str, subject_ref: str) -> bool:
        """Whether a receipt's ``subject_ref`` is the one made for this consent and child."""
        try:
            version = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))[0]
            expected = self._receipt_ref(consent_id, subject_ref, version)
        except (ValueError, IndexError, PseudonymiseError):
            return False
        return hmac.compare_digest(expected, value)

    def _receipt_ref(self, consent_id: str, subject_ref: str, version: int) -> str:
        key = self.pseudonymiser.keyring.derive(RECEIPT_KEY_PURPOSE, version)
        message = f"{consent_id}\x00{subject_ref}".encode()
        digest = hmac.new(key, message, hashlib.sha256).digest()[:24]
        return base64.urlsafe_b64encode(bytes([version]) + digest).decode().rstrip("=")
