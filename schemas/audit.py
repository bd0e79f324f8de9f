"""Audit bodies (API.md section 8): the subject access report request and the event shape.

The event shape is documentation: events are built and hashed by the gateway's audit log,
and a reader recomputes ``hash`` from exactly what the API returns.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from schemas.base import ResponseSchema
from schemas.fields import Choice, ListOf, Object, Oin, StrictInteger
from schemas.paging import PagedSearchSchema, load_search
from schemas.responses import LegalBasisSchema, hex_sha256, next_cursor
from schemas.subject import BsnSubjectSchema
from schemas.vocabulary import AUDIT_DECISIONS, AUDIT_PURPOSES, MESSAGE_TYPES


class SubjectReportRequestSchema(PagedSearchSchema):
    """``POST /api/v1/audit/subject-report``: one child's events, by BSN in the body."""

    subject = Object(BsnSubjectSchema, required=True)


def load_subject_report_request(data: object) -> dict[str, Any]:
    """Check the body; bad ``cursor``/``limit`` raise ``InvalidParameterError``."""
    return load_search(SubjectReportRequestSchema(), data)


def _nullable_string(**metadata: Any) -> fields.String:
    return fields.String(required=True, allow_none=True, metadata=metadata)


class AuditActorSchema(ResponseSchema):
    """Who acted: an organisation, and its client or web user where applicable."""

    org = Oin(required=True, allow_none=True)
    client_id = _nullable_string()
    user = _nullable_string(description="The SAML NameID of a web user.")


class AuditEventSchema(ResponseSchema):
    """One entry of the hash-chained audit log."""

    seq = StrictInteger(required=True, metadata={"minimum": 1})
    at = fields.DateTime(required=True)
    action = fields.String(required=True, metadata={"example": "exchange.send"})
    actor = Object(AuditActorSchema, required=True)
    exchange_id = _nullable_string()
    message_type = Choice(MESSAGE_TYPES, required=True, allow_none=True)
    sender = Oin(required=True, allow_none=True)
    recipient = Oin(required=True, allow_none=True)
    purpose = Choice(AUDIT_PURPOSES, required=True, allow_none=True)
    legal_basis = Object(LegalBasisSchema, required=True, allow_none=True)
    consent_id = _nullable_string()
    decision = Choice(AUDIT_DECISIONS, required=True)
    reason = _nullable_string(description="The refusal code, or null.")
    fields_forwarded = ListOf(fields.String(), required=True, allow_none=True)
    fields_dropped = ListOf(fields.String(), required=True, allow_none=True)
    fields_generalised = ListOf(
        fields.String(),
        required=True,
        allow_none=True,
        metadata={"description": "Entries like date_of_birth->birth_year."},
    )
    subject_ref = _nullable_string(description="Audit-domain pseudonym of the child.")
    fsc_transaction_id = _nullable_string()
    prev_hash = hex_sha256(required=True)
    hash = hex_sha256(required=True)


class AuditEventPageSchema(ResponseSchema):
    """A page of events, from the event search or a subject access report."""

    items = ListOf(Object(AuditEventSchema), required=True)
    next_cursor = next_cursor()
