"""Audit bodies (API.md section 8): the subject access report request and the event shape.

The event shape is documentation: events are built and hashed by the gateway's audit log,
and a reader recomputes ``hash`` from exactly what the API returns.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from schemas.base import ResponseSchema
from schemas.fields import Bsn, Choice, ListOf, Object, Oin, Polymorphic, Pseudonym, StrictInteger
from schemas.paging import PagedSearchSchema, load_search
from schemas.responses import LegalBasisSchema, hex_sha256, next_cursor
from schemas.subject import OneOfSubjectSchema
from schemas.vocabulary import AUDIT_DECISIONS, AUDIT_PURPOSES, MESSAGE_TYPES, NOTICE_TYPES


class ReportSubjectSchema(OneOfSubjectSchema):
    """The child of a subject report: by BSN, by the caller's own pseudonym (a partner that
    knows the child only by pseudonym, API.md section 13 rule 2), or polymorphic."""

    ways = ("bsn", "pseudonym", "polymorphic")
    bsn = Bsn()
    pseudonym = Pseudonym()
    polymorphic = Polymorphic()


class SubjectReportRequestSchema(PagedSearchSchema):
    """``POST /api/v1/audit/subject-report``: one child's events."""

    subject = Object(ReportSubjectSchema, required=True)


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
    """One entry of the hash-chained audit log.

    ``hash`` is the hex SHA-256 of the RFC 8785 form of the event without the view members
    ``hash``, ``subject_ref`` and ``subject_opening``; the Merkle leaf hash is SHA-256 of 0x00
    followed by the same bytes (docs/audit-design.md)."""

    seq = StrictInteger(required=True, metadata={"minimum": 1})
    at = fields.DateTime(required=True)
    action = fields.String(required=True, metadata={"example": "exchange.send"})
    actor = Object(AuditActorSchema, required=True)
    exchange_id = _nullable_string()
    # a notice (retraction, consent withdrawal) is an exchange of the gateway's: audited too
    message_type = Choice(MESSAGE_TYPES + NOTICE_TYPES, required=True, allow_none=True)
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
    subject_ref = _nullable_string(
        description=(
            "The child's audit-domain pseudonym: for the operator's readers only, null for "
            "everyone else (API.md section 13 rule 1). Not hashed."
        )
    )
    subject_commitment = _nullable_string(
        description=(
            "Hashed per-event commitment to the child: hex SHA-256 of "
            "'thuiszitterspact/audit-subject/v1' 0x00 || opening || subject_ref. Hiding and "
            "different in every event; null when the event named no child."
        )
    )
    subject_opening = fields.String(
        allow_none=True,
        metadata={
            "description": (
                "Operator readers only (absent for partners): the 16-byte opening (hex) of "
                "subject_commitment. Not hashed."
            )
        },
    )
    fsc_transaction_id = _nullable_string()
    trace_id = fields.String(
        validate=validate.Regexp(r"^[0-9a-f]{32}$"),
        metadata={
            "description": (
                "The gateway's W3C trace of the processing (32 lower-case hex), the same as its "
                "Logboek Dataverwerkingen record's. Hashed; absent on events written before "
                "issue 22. Never the caller's trace."
            )
        },
    )
    span_id = fields.String(
        validate=validate.Regexp(r"^[0-9a-f]{16}$"),
        metadata={
            "description": (
                "The processing's span in that trace (16 lower-case hex). Hashed; absent on "
                "events written before issue 22."
            )
        },
    )
    prev_hash = hex_sha256(required=True)
    hash = hex_sha256(required=True)


class AuditEventPageSchema(ResponseSchema):
    """A page of events, from the event search or a subject access report."""

    items = ListOf(Object(AuditEventSchema), required=True)
    next_cursor = next_cursor()
