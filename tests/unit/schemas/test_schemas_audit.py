"""Subject access report body (API.md section 8) and the problem document shape."""

import pytest

from schemas.audit import AuditEventSchema, load_subject_report_request
from schemas.errors import InvalidParameterError, SchemaValidationError
from schemas.problem import ProblemSchema


def test_subject_report_request():
    assert load_subject_report_request({"subject": {"bsn": "123456782"}, "limit": 10}) == {
        "subject": {"bsn": "123456782"},
        "limit": 10,
        "cursor": None,
    }


def test_subject_report_refusals():
    with pytest.raises(SchemaValidationError) as caught:
        load_subject_report_request({"subject": {"pseudonym": "abc", "bsn": "123456782"}})
    assert set(caught.value.errors) == {"subject"}
    with pytest.raises(InvalidParameterError) as caught:
        load_subject_report_request({"subject": {"bsn": "123456782"}, "limit": 501})
    assert set(caught.value.errors) == {"limit"}


def test_event_shape_has_every_field_of_section_8():
    assert set(AuditEventSchema().fields) == {
        "seq",
        "at",
        "action",
        "actor",
        "exchange_id",
        "message_type",
        "sender",
        "recipient",
        "purpose",
        "legal_basis",
        "consent_id",
        "decision",
        "reason",
        "fields_forwarded",
        "fields_dropped",
        "fields_generalised",
        "subject_ref",
        "subject_commitment",
        "subject_opening",
        "fsc_transaction_id",
        "trace_id",
        "span_id",
        "prev_hash",
        "hash",
    }


def test_problem_shape_has_rfc_9457_members_and_ours():
    assert set(ProblemSchema().fields) == {
        "type",
        "title",
        "status",
        "detail",
        "code",
        "instance",
        "errors",
        "error_id",
    }
