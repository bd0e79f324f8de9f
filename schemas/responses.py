"""Small answer shapes shared by several endpoints (organisation refs, legal basis, pages).

They document answers only; see ``ResponseSchema``.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from schemas.base import ResponseSchema
from schemas.fields import Choice, Oin
from schemas.vocabulary import LEGAL_BASIS_TYPES, ORGANISATION_TYPES

HEX_SHA256 = r"^[0-9a-f]{64}$"


class OrganisationRefSchema(ResponseSchema):
    """An organisation as a recipient sees its sender: OIN, name and type."""

    oin = Oin(required=True)
    name = fields.String(required=True)
    type = Choice(ORGANISATION_TYPES, required=True)


class LegalBasisSchema(ResponseSchema):
    """Why an exchange was lawful: a cited legal obligation, or the consent that covered it."""

    type = Choice(LEGAL_BASIS_TYPES, required=True)
    citation = fields.String(
        metadata={"description": "The statute, when type is legal_obligation."}
    )
    consent_id = fields.String(metadata={"description": "The consent, when type is consent."})


def next_cursor() -> fields.String:
    """The ``next_cursor`` member of every page: an opaque string, null on the last page."""
    return fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Pass as cursor to get the next page; null on the last page."},
    )


def hex_sha256(**kwargs: Any) -> fields.String:
    """A lower-case hex SHA-256 digest."""
    return fields.String(metadata={"pattern": HEX_SHA256}, **kwargs)
