"""The exchange request envelope (pipeline step 5) and the exchange and inbox answers.

The envelope is checked before the route and recipient are known, so it looks only at the
shape of the body (API.md section 4, step 5); the payload and the subject's syntax are
checked by ``schemas.messages.load_payload`` and ``schemas.subject.load_subject`` in step 9.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from schemas.address import Recipient, RoleAddressSchema
from schemas.base import ResponseSchema, StrictSchema, load_with
from schemas.fields import Choice, JsonObject, ListOf, Object, Oin, StrictInteger
from schemas.responses import LegalBasisSchema, OrganisationRefSchema, hex_sha256, next_cursor
from schemas.subject import DeliveredSubjectSchema, SubjectShape
from schemas.vocabulary import EXCHANGE_STATUSES, MESSAGE_TYPES, PURPOSES


class ExchangeRequestSchema(StrictSchema):
    """``POST /api/v1/exchanges`` body: ``{message_type, recipient, subject, payload}``.

    ``recipient`` is an OIN or a role address (``schemas.address``), which the gateway
    resolves through the registry in step 6.

    ``message_type`` accepts every known type, ``signal_match`` included: a partner sending
    it is refused by the route check (403 ``route_not_allowed``), not here.
    """

    message_type = Choice(MESSAGE_TYPES, required=True)
    recipient = Recipient(required=True)
    subject = SubjectShape(required=True)
    payload = JsonObject(
        required=True, metadata={"description": "The payload schema of message_type."}
    )


def load_exchange_envelope(data: object) -> dict[str, Any]:
    """Check the envelope; errors under ``message_type``, ``recipient``, ``subject``,
    ``payload`` (and the name of any other top-level member)."""
    return load_with(_ENVELOPE, data)


_ENVELOPE = ExchangeRequestSchema()
"""One instance for every request: building a marshmallow schema costs more than loading with
it, and loading does not change the instance."""


class AuditRefSchema(ResponseSchema):
    """Where the decision was written in the audit log."""

    seq = StrictInteger(required=True)
    hash = hex_sha256(required=True)


class ExchangeAcceptedSchema(ResponseSchema):
    """``202`` answer to a send."""

    id = fields.String(required=True)
    status = Choice(("accepted",), required=True)
    message_type = Choice(MESSAGE_TYPES, required=True)
    recipient = Oin(required=True)
    recipient_address = Object(
        RoleAddressSchema,
        required=True,
        allow_none=True,
        metadata={
            "description": "The role address as sent, or null for a send by OIN; recipient "
            "is the OIN it resolved to."
        },
    )
    created_at = fields.DateTime(required=True)
    audit = Object(AuditRefSchema, required=True)


class ExchangeStatusSchema(StrictSchema):
    """``GET /api/v1/exchanges/{id}``: metadata only, never the payload or the subject.

    Closed (no other members) on purpose: the OpenAPI document then lets a response check
    catch a payload or subject leaking into this answer.
    """

    id = fields.String(required=True)
    message_type = Choice(MESSAGE_TYPES, required=True)
    sender = Oin(required=True)
    recipient = Oin(required=True)
    status = Choice(EXCHANGE_STATUSES, required=True)
    created_at = fields.DateTime(required=True)
    delivered_at = fields.DateTime(required=True, allow_none=True)
    acknowledged_at = fields.DateTime(required=True, allow_none=True)


class InboxItemSchema(ResponseSchema):
    """A message as its recipient gets it, by pull (inbox) or push (worker)."""

    id = fields.String(required=True)
    message_type = Choice(MESSAGE_TYPES, required=True)
    sender = Object(OrganisationRefSchema, required=True)
    subject = Object(DeliveredSubjectSchema, required=True)
    payload = JsonObject(
        required=True,
        metadata={"description": "The payload after the route's minimisation profile."},
    )
    purpose = Choice(PURPOSES, required=True)
    legal_basis = Object(LegalBasisSchema, required=True)
    created_at = fields.DateTime(required=True)
    fsc_transaction_id = fields.UUID(required=True)


class InboxPageSchema(ResponseSchema):
    """``GET /api/v1/inbox``: oldest first, unacknowledged items only."""

    items = ListOf(Object(InboxItemSchema), required=True)
    next_cursor = next_cursor()


class AckResponseSchema(ResponseSchema):
    """``POST /api/v1/inbox/{id}/ack``."""

    id = fields.String(required=True)
    status = Choice(("acknowledged",), required=True)
    acknowledged_at = fields.DateTime(required=True)
