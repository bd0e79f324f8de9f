"""Receipt claims (consent/receipts.py): what the gateway attests, and nothing more."""

import base64
import json
from dataclasses import replace
from datetime import UTC, date, datetime

from consent.receipts import RECEIPT_TYPE, is_legacy, receipt_claims
from consent.records import Actor, Consent
from consent.subjects import DomainSubjects
from pseudonymise import Bsn, DomainPseudonymiser, KeyRing


def test_claims_name_the_given_subject_value_and_evidence_method_only():
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
    assert receipt_claims(consent, "https://gw.example", issued, "per-consent") == {
        "iss": "https://gw.example",
        "iat": 1735812005,
        "jti": "6f7c",
        "subject_ref": "per-consent",
        "purpose": "support",
        "parties": ["school", "00000001004567890000"],
        "grantor_roles": ["parent", "youth"],
        "valid_from": "2025-01-01",
        "valid_until": "2025-12-31",
        "evidence_method": "digital",
        "recorded_by": "00000001001234567000",
    }
    assert receipt_claims(consent, "https://gw.example", 1700000000, "x")["iat"] == 1700000000


def test_receipt_subject_differs_per_consent_and_binds_to_the_child():
    subjects = DomainSubjects(DomainPseudonymiser(KeyRing.generate()), "consent")
    child = subjects.refs(Bsn("111222333"))[0]
    first, second = subjects.receipt_ref("c-1", child), subjects.receipt_ref("c-2", child)
    assert first != second and child not in (first, second)
    assert subjects.receipt_ref("c-1", child) == first  # the gateway can recompute it
    assert subjects.binds(first, "c-1", child)
    other_child = subjects.refs(Bsn("123456782"))[0]
    assert not subjects.binds(first, "c-1", other_child)
    assert not subjects.binds(first, "c-2", child)
    assert not subjects.binds("not base64 !", "c-1", child) and not subjects.binds("", "c-1", child)


def _unsigned(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part(claims)}.sig"


def test_a_receipt_naming_the_child_by_its_consent_pseudonym_is_legacy():
    consent = Consent("c-1", "child-ref", "mazl", ("school",), ("parent",), date(2025, 1, 1),
                      date(2025, 2, 1), "written", Actor("1" * 20, "school"),
                      datetime(2025, 1, 1, tzinfo=UTC))
    assert is_legacy(replace(consent, receipt=_unsigned({"subject_ref": "child-ref"})))
    assert not is_legacy(replace(consent, receipt=_unsigned({"subject_ref": "other"})))
    assert not is_legacy(replace(consent, receipt="garbage"))
