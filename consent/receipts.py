"""Consent receipts: what the gateway attests to the recorder, as JWT claims.

The receipt is a compact JWS (header ``typ: consent-receipt+jwt``) signed with the gateway's
current signing key, so anyone can check it against ``/oauth/jwks`` without asking the
gateway. It names the child only by the consent-domain pseudonym, and the evidence only by
its method: the reference stays in the registry.
"""

from __future__ import annotations

from datetime import datetime

from .records import Consent

RECEIPT_TYPE = "consent-receipt+jwt"


def receipt_claims(consent: Consent, issuer: str, issued_at: datetime) -> dict:
    """The claims of ``consent``'s receipt (API.md section 5)."""
    return {
        "iss": issuer,
        "iat": int(issued_at.timestamp()),
        "jti": consent.id,
        "subject_ref": consent.subject_ref,
        "purpose": consent.purpose,
        "parties": list(consent.parties),
        "grantor_roles": list(consent.grantor_roles),
        "valid_from": consent.valid_from.isoformat(),
        "valid_until": consent.valid_until.isoformat(),
        "evidence_method": consent.evidence_method,
        "recorded_by": consent.recorded_by.org_oin,
    }
