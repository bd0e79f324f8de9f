"""Consent registry bodies (API.md section 5): record, withdraw, search, and the answer.

The age rule on grantors (who must consent at which age) is a consent-domain decision with
its own code, ``consent_grantor_invalid``; it lives in ``consent/``, not here. This module
only checks that the body is well formed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import ValidationError, fields, validates_schema

from schemas.base import ResponseSchema, StrictSchema, load_with
from schemas.dates import DatedSchema, PastOrTodayDate, StrictDate
from schemas.fields import (
    OIN_PATTERN,
    OIN_REGEX,
    Bsn,
    Choice,
    ListOf,
    Object,
    Polymorphic,
    Pseudonym,
    Text,
)
from schemas.paging import PagedSearchSchema, load_search
from schemas.responses import next_cursor
from schemas.subject import BsnSubjectSchema, OneOfSubjectSchema
from schemas.vocabulary import (
    CONSENT_PURPOSES,
    CONSENT_STATUSES,
    EVIDENCE_METHODS,
    GRANTOR_ROLES,
    ORGANISATION_TYPES,
)


class PartyReference(fields.String):
    """A party to a consent: one organisation by OIN, or every organisation of a type."""

    default_error_messages = {
        "required": "This field is required.",
        "null": "This field must not be null.",
        "invalid": "Must be an OIN (20 digits) or an organisation type.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {
            "oneOf": [
                {"type": "string", "pattern": OIN_PATTERN},
                {"type": "string", "enum": list(ORGANISATION_TYPES)},
            ],
            **kwargs.get("metadata", {}),
        }
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, str) and (value in ORGANISATION_TYPES or OIN_REGEX.fullmatch(value)):
            return value
        raise self.make_error("invalid")


class GrantorSchema(StrictSchema):
    """A person who gave (or withdraws) consent, by role only: names stay on paper."""

    role = Choice(GRANTOR_ROLES, required=True)


class EvidenceSchema(StrictSchema):
    """Where the consent itself is kept (a form number, a document id)."""

    method = Choice(EVIDENCE_METHODS, required=True)
    reference = Text(required=True, max_length=200)


class ConsentRequestSchema(DatedSchema):
    """``POST /api/v1/consents``. Backdated and already-ended consents are allowed (paper
    consent), so only ``date_of_birth`` is checked against ``today``."""

    subject = Object(BsnSubjectSchema, required=True)
    date_of_birth = PastOrTodayDate(required=True)
    purpose = Choice(CONSENT_PURPOSES, required=True)
    parties = ListOf(PartyReference(), required=True, min_items=1, unique=True)
    granted_by = ListOf(Object(GrantorSchema), required=True, min_items=1)
    valid_from = StrictDate(required=True)
    valid_until = StrictDate(required=True)
    evidence = Object(EvidenceSchema, required=True)

    @validates_schema(skip_on_field_errors=False)
    def _period_in_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("valid_from"), data.get("valid_until")
        if start is not None and end is not None and end < start:
            raise ValidationError("Must be on or after valid_from.", "valid_until")


def load_consent_request(data: object, today: date) -> dict[str, Any]:
    """Check a consent to record, as sent on ``today`` (the local date)."""
    return load_with(ConsentRequestSchema(today=today), data)


class ConsentWithdrawSchema(StrictSchema):
    """``POST /api/v1/consents/{id}/withdraw``."""

    withdrawn_by = Object(GrantorSchema, required=True)
    reason = Text(required=True, max_length=500, multiline=True)


def load_consent_withdrawal(data: object) -> dict[str, Any]:
    """Check a withdrawal body."""
    return load_with(ConsentWithdrawSchema(), data)


class ConsentSearchSubjectSchema(OneOfSubjectSchema):
    """The child of a consent search: by BSN (or its polymorphic form) when the caller has
    it, otherwise by the caller's own pseudonym of the child as delivered in its inbox
    (API.md section 13, rule 2)."""

    ways = ("bsn", "pseudonym", "polymorphic")
    bsn = Bsn(metadata={"description": "Finds consents the caller recorded, and those "
                        "naming it by OIN once it had this BSN from the gateway or sent it."})
    pseudonym = Pseudonym(metadata={"description": "The caller's own pseudonym of the child; "
                                    "one not issued to the caller finds nothing."})
    polymorphic = Polymorphic()


class ConsentSearchSchema(PagedSearchSchema):
    """``POST /api/v1/consents/search``: a BSN never goes into a URL, so this is a POST."""

    subject = Object(ConsentSearchSubjectSchema, required=True)


def load_consent_search(data: object) -> dict[str, Any]:
    """Check a search body; bad ``cursor``/``limit`` raise ``InvalidParameterError``."""
    return load_search(ConsentSearchSchema(), data)


class ConsentResponseSchema(ResponseSchema):
    """A consent as the registry answers it; ``status`` is derived from the dates."""

    id = fields.String(required=True)
    status = Choice(CONSENT_STATUSES, required=True)
    purpose = Choice(CONSENT_PURPOSES, required=True)
    parties = ListOf(PartyReference(), required=True)
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(required=True)
    created_at = fields.DateTime(required=True)
    receipt = fields.String(
        required=True,
        metadata={
            "description": (
                "Compact JWS, typ consent-receipt+jwt, signed by a key in /oauth/jwks. Claims: "
                "iss, iat, jti (the consent id), subject_ref, purpose, parties, grantor_roles, "
                "valid_from, valid_until, evidence_method, recorded_by. subject_ref is a keyed "
                "value made for this one consent (it differs for every consent, also of one "
                "child, and cannot be tested against a BSN); the gateway can check that it "
                "belongs to the consent's child."
            )
        },
    )
    withdrawn_at = fields.DateTime(
        allow_none=True, metadata={"description": "Set once the consent is withdrawn."}
    )


class ConsentPageSchema(ResponseSchema):
    """Search answer."""

    items = ListOf(Object(ConsentResponseSchema), required=True)
    next_cursor = next_cursor()
