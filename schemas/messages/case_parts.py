"""The parts the pact's case messages share (docs/pact-workflows.md sections 2.2 and 3.3):
the per-participant ``case_ref`` and an organisation as a case message names it.

They live beside the message schemas (as ``reference.py`` does) so that the case messages and
the case endpoints' bodies (``schemas.cases``) import them without a cycle.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError

from schemas.base import StrictSchema
from schemas.fields import Choice, Oin, Text
from schemas.vocabulary import ORGANISATION_TYPES

CASE_REF_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
_CASE_REF = re.compile(CASE_REF_PATTERN.removeprefix("^").removesuffix("$"))
MAX_AGREEMENTS = 20
"""At most twenty agreements per case: the outcome of one meeting, not a care plan."""


class CaseRef(Text):
    """A participant's own case reference: a random UUID v4, lower case, as the gateway
    draws it. It names the case for one organisation only (section 2.2)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {
            "pattern": CASE_REF_PATTERN,
            "description": "Your organisation's own reference of the case; no other "
            "organisation holds it.",
            **kwargs.get("metadata", {}),
        }
        super().__init__(max_length=36, min_length=36, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        ref = super()._deserialize(value, attr, data, **kwargs)
        if not _CASE_REF.fullmatch(ref):
            raise ValidationError("Must be a case reference (a lower-case UUID v4).")
        return ref


class CaseOrganisationSchema(StrictSchema):
    """An organisation as a case message names it: OIN, registered name and type."""

    oin = Oin(required=True)
    name = Text(required=True, max_length=200)
    type = Choice(ORGANISATION_TYPES, required=True)
