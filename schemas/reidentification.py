"""Re-identification requests (API.md section 7): turning a pseudonym back into a BSN.

This is the most sensitive operation the gateway offers, so the request must say why and
on what legal basis, and a refusal must say why too; an approval may.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from schemas.base import ResponseSchema, StrictSchema, load_with
from schemas.fields import Bsn, Choice, Pseudonym, Text
from schemas.vocabulary import REIDENTIFICATION_STATUSES


class ReidentificationRequestSchema(StrictSchema):
    """``POST /api/v1/reidentifications``: one of the caller's own pseudonyms."""

    pseudonym = Pseudonym(required=True)
    reason = Text(required=True, max_length=500, multiline=True)
    legal_basis = Text(required=True, max_length=200)


class ReidentificationApproveSchema(StrictSchema):
    """``POST .../approve``: an optional reason (the body may also be empty or ``{}``)."""

    reason = Text(max_length=500, multiline=True)


class ReidentificationRefuseSchema(StrictSchema):
    """``POST .../refuse``: the requester is owed a reason."""

    reason = Text(required=True, max_length=500, multiline=True)


def load_reidentification_request(data: object) -> dict[str, Any]:
    """Check a re-identification request body."""
    return load_with(ReidentificationRequestSchema(), data)


def load_reidentification_approval(data: object) -> dict[str, Any]:
    """Check an approval body; ``None`` (an empty body) counts as ``{}``."""
    return load_with(ReidentificationApproveSchema(), {} if data is None else data)


def load_reidentification_refusal(data: object) -> dict[str, Any]:
    """Check a refusal body; the reason is required."""
    return load_with(ReidentificationRefuseSchema(), {} if data is None else data)


class ReidentificationResponseSchema(ResponseSchema):
    """The request's state; ``bsn`` appears once, in the first answer after approval."""

    id = fields.String(required=True)
    status = Choice(REIDENTIFICATION_STATUSES, required=True)
    bsn = Bsn(metadata={"description": "Only in the first GET after approval."})
