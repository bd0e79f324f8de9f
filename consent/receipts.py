"""Consent receipts: what the gateway attests to the recorder, as JWT claims.

The receipt is a compact JWS (header ``typ: consent-receipt+jwt``) signed with the gateway's
current signing key, so anyone can check it against ``/oauth/jwks`` without asking the
gateway. It names the evidence only by its method (the reference stays in the registry) and
the child only by ``subject_ref``, a keyed value made for this one consent
(:meth:`consent.subjects.DomainSubjects.receipt_ref`): every party of a consent sees its
receipt, so a value shared by all consents of a child would let two partners link their
records of that child (API.md section 13, rule 1).

Receipts issued before that rule carried the child's consent-domain pseudonym, the same for
every consent; :func:`is_legacy` spots them so that the registry answers with a reissued
receipt instead (:meth:`consent.service.ConsentService.receipt_of`).
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from .records import Consent

RECEIPT_TYPE = "consent-receipt+jwt"


def receipt_claims(
    consent: Consent, issuer: str, issued_at: datetime | int, subject_ref: str
) -> dict:
    """The claims of ``consent``'s receipt (API.md section 5 as section 13 amends it);
    ``issued_at`` as a time or as the ``iat`` of the receipt this one reissues."""
    iat = issued_at if isinstance(issued_at, int) else int(issued_at.timestamp())
    return {
        "iss": issuer,
        "iat": iat,
        "jti": consent.id,
        "subject_ref": subject_ref,
        "purpose": consent.purpose,
        "parties": list(consent.parties),
        "grantor_roles": list(consent.grantor_roles),
        "valid_from": consent.valid_from.isoformat(),
        "valid_until": consent.valid_until.isoformat(),
        "evidence_method": consent.evidence_method,
        "recorded_by": consent.recorded_by.org_oin,
    }


def stored_claims(receipt: str) -> dict:
    """The claims of a receipt the registry itself stored (not verified: it is our own row;
    anything unreadable is an empty dict)."""
    try:
        payload = receipt.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error, UnicodeDecodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def is_legacy(consent: Consent) -> bool:
    """The stored receipt names the child by its consent-domain pseudonym (before v1.1)."""
    return stored_claims(consent.receipt).get("subject_ref") == consent.subject_ref
