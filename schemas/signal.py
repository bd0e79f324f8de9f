"""Signals (API.md section 6): "my organisation is involved with this child".

A signal carries a category for the sender's own records, but matching shares only who the
other party is and how to reach them; the category never leaves the gateway.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from schemas.base import ResponseSchema, StrictSchema, load_with
from schemas.contact import ContactSchema
from schemas.fields import Choice, Object
from schemas.subject import SubjectSchema
from schemas.vocabulary import SIGNAL_CATEGORIES, SIGNAL_STATUSES


class SignalRequestSchema(StrictSchema):
    """``POST /api/v1/signals``: subject by BSN or by the caller's own pseudonym."""

    subject = Object(SubjectSchema, required=True)
    category = Choice(SIGNAL_CATEGORIES, required=True)
    contact = Object(ContactSchema, required=True)


def load_signal_request(data: object) -> dict[str, Any]:
    """Check a signal body, subject syntax (elfproef) included."""
    return load_with(SignalRequestSchema(), data)


class SignalResponseSchema(ResponseSchema):
    """Answer to create (``201``, with ``created_at``) and close (``200``)."""

    id = fields.String(required=True)
    status = Choice(SIGNAL_STATUSES, required=True)
    created_at = fields.DateTime(metadata={"description": "Present when the signal is created."})
