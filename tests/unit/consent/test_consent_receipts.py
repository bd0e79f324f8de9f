"""Receipt claims (consent/receipts.py): what the gateway attests, and nothing more."""

from datetime import UTC, date, datetime

from consent.receipts import RECEIPT_TYPE, receipt_claims
from consent.records import Actor, Consent


def test_claims_name_the_pseudonym_and_evidence_method_only():
    consent = Consent(
        id="6f7c",
        subject_ref="pseudo",
        purpose="support",
        parties=("school", "00000001004567890000"),
        grantor_roles=("parent", "youth"),
        valid_from=date(2025, 1, 1),
        valid_until=date(2025, 12, 31),
        evidence_method="digital",
        recorded_by=Actor("00000001001234567000", "school", 1, "sis"),
        created_at=datetime(2025, 1, 2, tzinfo=UTC),
    )
    issued = datetime(2025, 1, 2, 10, 0, 5, 900000, tzinfo=UTC)
    assert RECEIPT_TYPE == "consent-receipt+jwt"
    assert receipt_claims(consent, "https://gw.example", issued) == {
        "iss": "https://gw.example",
        "iat": 1735812005,
        "jti": "6f7c",
        "subject_ref": "pseudo",
        "purpose": "support",
        "parties": ["school", "00000001004567890000"],
        "grantor_roles": ["parent", "youth"],
        "valid_from": "2025-01-01",
        "valid_until": "2025-12-31",
        "evidence_method": "digital",
        "recorded_by": "00000001001234567000",
    }
