"""Request bodies of the case endpoints (docs/pact-workflows.md section 7).

Each body is checked here for its shape only; what needs the database is the case service's:
whether an OIN is a participant (422 ``unknown_participant``), an invitee listed twice after
resolution, the convener inviting itself, an exemption's advisers being one ggd and at most one
swv. The ``payload`` of an opening request is an object here and is validated by the message
schema of its type (``case_invitation`` or ``exemption_advice_request``) in the pipeline's
schema step, so its errors come back under ``payload.<field>`` like a send's.

An entry of ``invite`` or ``advisers`` is an OIN string or a role address object
(``{"type": "leerplicht", "municipality": "0014"}``, section 6.1). Only its form is checked
here (a string must be an OIN; anything else must be an object): the object's members are the
recipient resolver's to check (``schemas/address.py``), which answers its own 422 under
``invite.<n>`` / ``advisers.<n>``, so the two cannot disagree on what an address is.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from marshmallow import ValidationError, fields, validates_schema

from schemas.base import StrictSchema, load_with
from schemas.contact import ContactSchema
from schemas.dates import DatedSchema, PastOrTodayDate, StrictDate, today_of
from schemas.fields import (
    OIN_PATTERN,
    OIN_REGEX,
    Choice,
    JsonObject,
    ListOf,
    Object,
    Oin,
)
from schemas.messages.case_parts import MAX_AGREEMENTS
from schemas.subject import SubjectShape
from schemas.vocabulary import (
    AGREEMENT_ACTIONS,
    AGREEMENT_PARTY_ROLES,
    CONVENER_CLOSE_REASONS,
    CONVENER_PARTY,
    DECLINE_REASONS,
    EXEMPTION_DECISIONS,
)

MAX_INVITEES = 8
"""At most eight invitees: every invitee learns of every other, so a case writes up to 72
``case.disclose`` events in one transaction (design risk R11)."""
MAX_ADVISERS = 2
MAX_DAYS_AHEAD = 366
"""An agreement's due date and the review date lie at most a year ahead (a leap day included)."""
OPENABLE_KINDS: tuple[str, ...] = ("consultation", "exemption_advice")
"""An escalation is opened by the gateway, never by a partner."""


class RecipientEntry(fields.Field):
    """One invitee or adviser: an OIN, or a role address object checked by the resolver."""

    default_error_messages = {
        "required": "This field is required.",
        "null": "This field must not be null.",
        "invalid": "Must be an OIN (20 digits) or a role address object.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {
            "oneOf": [
                {"type": "string", "pattern": OIN_PATTERN},
                {
                    "type": "object",
                    "description": 'A role address, e.g. {"type": "leerplicht", '
                    '"municipality": "0014"}, resolved through the registry.',
                },
            ],
            **kwargs.get("metadata", {}),
        }
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and OIN_REGEX.fullmatch(value):
            return value
        if isinstance(value, dict):
            return dict(value)
        raise self.make_error("invalid")


def _recipients(maximum: int) -> ListOf:
    return ListOf(RecipientEntry(), min_items=1, max_items=maximum, unique=True)


class CaseOpenSchema(StrictSchema):
    """``POST /api/v1/cases``: a consultation (``invite``) or an exemption advice
    (``advisers``); the member of the other kind is refused."""

    kind = Choice(OPENABLE_KINDS, required=True)
    subject = SubjectShape(required=True)
    invite = _recipients(MAX_INVITEES)
    advisers = _recipients(MAX_ADVISERS)
    payload = JsonObject(
        required=True,
        metadata={
            "description": "The payload of case_invitation (consultation) or of "
            "exemption_advice_request (exemption_advice)."
        },
    )

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _members_of_the_kind(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        if not isinstance(original, dict) or data.get("kind") not in OPENABLE_KINDS:
            return
        wanted, other = (
            ("invite", "advisers") if data["kind"] == "consultation" else ("advisers", "invite")
        )
        errors: dict[str, list[str]] = {}
        if wanted not in original:
            errors[wanted] = [f"Required when kind is {data['kind']}."]
        if other in original:
            errors[other] = [f"Not allowed when kind is {data['kind']}."]
        if errors:
            raise ValidationError(errors)


class CaseAcceptSchema(StrictSchema):
    """``POST /api/v1/cases/{case_ref}/accept``: empty, or the invitee's contact."""

    contact = Object(ContactSchema)


class CaseDeclineSchema(StrictSchema):
    """``POST /api/v1/cases/{case_ref}/decline``."""

    reason = Choice(DECLINE_REASONS, required=True)


class AgreementParty(fields.Field):
    """Who an agreement is for: a participant's OIN, the convener (``"school"``), the parents
    or the youth. Whether an OIN is an accepted participant is the case service's check."""

    WORDS: tuple[str, ...] = (CONVENER_PARTY, *AGREEMENT_PARTY_ROLES)
    default_error_messages = {
        "required": "This field is required.",
        "null": "This field must not be null.",
        "invalid": "Must be an OIN (20 digits), school, parents or youth.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {
            "oneOf": [
                {"type": "string", "pattern": OIN_PATTERN},
                {"type": "string", "enum": list(self.WORDS)},
            ],
            **kwargs.get("metadata", {}),
        }
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, str) and (value in self.WORDS or OIN_REGEX.fullmatch(value)):
            return value
        raise self.make_error("invalid")


WITHIN_A_YEAR = {"description": "Today (Europe/Amsterdam) or later, at most a year ahead."}


def _within_a_year(day: date, today: date) -> list[str]:
    """What is wrong with a follow-up date the reminders must still serve (nothing: [])."""
    if day < today:
        return ["Must be today or later."]
    if day > today + timedelta(days=MAX_DAYS_AHEAD):
        return ["Must be at most a year ahead."]
    return []


class AgreementRequestSchema(StrictSchema):
    """One agreement as the convener records it."""

    party = AgreementParty(required=True)
    action = Choice(AGREEMENT_ACTIONS, required=True)
    due_date = StrictDate(required=True, metadata=WITHIN_A_YEAR)


class CaseAgreementsSchema(DatedSchema):
    """``POST /api/v1/cases/{case_ref}/agreements``; construct with ``today=``."""

    regie = Oin(
        required=True,
        metadata={"description": "The OIN of the regiehouder: an accepted participant or you."},
    )
    agreements = ListOf(
        Object(AgreementRequestSchema),
        required=True,
        min_items=1,
        max_items=MAX_AGREEMENTS,
    )
    next_review_date = StrictDate(required=True, metadata=WITHIN_A_YEAR)

    @validates_schema(skip_on_field_errors=False)
    def _follow_ups_within_a_year(self, data: dict[str, Any], **kwargs: Any) -> None:
        """The dates against the day of recording (the nested agreements cannot see it)."""
        today = today_of(self)
        errors: dict[str, Any] = {}
        for index, agreement in enumerate(data.get("agreements") or []):
            if isinstance(agreement, dict) and "due_date" in agreement:
                problems = _within_a_year(agreement["due_date"], today)
                if problems:
                    errors.setdefault("agreements", {})[index] = {"due_date": problems}
        if "next_review_date" in data:
            problems = _within_a_year(data["next_review_date"], today)
            if problems:
                errors["next_review_date"] = problems
        if errors:
            raise ValidationError(errors)


class CaseDecisionSchema(DatedSchema):
    """``POST /api/v1/cases/{case_ref}/decision``; construct with ``today=``. A validity
    (``valid_until``) belongs to an exemption only."""

    decision = Choice(EXEMPTION_DECISIONS, required=True)
    decided_on = PastOrTodayDate(required=True)
    valid_until = StrictDate(
        metadata={"description": "Only with decision exempted_5a; not before decided_on."}
    )

    @validates_schema(skip_on_field_errors=False)
    def _validity_of_an_exemption(self, data: dict[str, Any], **kwargs: Any) -> None:
        until = data.get("valid_until")
        if until is None or "decision" not in data:
            return
        if data["decision"] != "exempted_5a":
            raise ValidationError("Only allowed when decision is exempted_5a.", "valid_until")
        decided = data.get("decided_on")
        if decided is not None and until < decided:
            raise ValidationError("Must not be before decided_on.", "valid_until")


class CaseCloseSchema(StrictSchema):
    """``POST /api/v1/cases/{case_ref}/close``: the convener's reason; the gateway's own
    reasons (a consent ended, a placement) are never given by a partner."""

    reason = Choice(CONVENER_CLOSE_REASONS, required=True)


def load_case_open(data: object) -> dict[str, Any]:
    """Check an opening request; errors under ``kind``, ``subject``, ``invite.<n>``,
    ``advisers.<n>``, ``payload`` (the payload's own fields are checked later)."""
    return load_with(_OPEN, data)


def load_case_accept(data: object) -> dict[str, Any]:
    """Check an accept body; an empty body (``None``) is the same as ``{}``."""
    return load_with(_ACCEPT, {} if data is None else data)


def load_case_decline(data: object) -> dict[str, Any]:
    """Check a decline body; errors under ``reason``."""
    return load_with(_DECLINE, data)


def load_case_agreements(data: object, today: date) -> dict[str, Any]:
    """Check the agreements as recorded on ``today`` (the local date); errors under
    ``regie``, ``agreements.<n>.<field>``, ``next_review_date``."""
    return load_with(CaseAgreementsSchema(today=today), data)


def load_case_decision(data: object, today: date) -> dict[str, Any]:
    """Check a decision as recorded on ``today``; errors under ``decision``, ``decided_on``,
    ``valid_until``."""
    return load_with(CaseDecisionSchema(today=today), data)


def load_case_close(data: object) -> dict[str, Any]:
    """Check a close body; errors under ``reason``."""
    return load_with(_CLOSE, data)


_OPEN = CaseOpenSchema()
_ACCEPT = CaseAcceptSchema()
_DECLINE = CaseDeclineSchema()
_CLOSE = CaseCloseSchema()
