"""The child an exchange, signal or consent is about.

A subject is ``{"bsn": ...}`` or ``{"pseudonym": ...}``, never both (API.md section 3). The
exchange pipeline checks the shape early (envelope, step 5) and the syntax later (step 9),
so this module offers both checks separately.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validates_schema

from schemas.base import StrictSchema, load_with
from schemas.fields import Bsn, Object, Pseudonym

SUBJECT_KEYS: tuple[str, ...] = ("bsn", "pseudonym")
EXACTLY_ONE = "Must hold exactly one of bsn or pseudonym."


class SubjectSchema(StrictSchema):
    """A child named by a valid BSN or by a pseudonym the gateway issued."""

    bsn = Bsn()
    pseudonym = Pseudonym()

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _exactly_one(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        if isinstance(original, dict) and sum(key in original for key in SUBJECT_KEYS) != 1:
            raise ValidationError(EXACTLY_ONE)


class BsnSubjectSchema(StrictSchema):
    """A child named by BSN only: consents and subject access reports start from the BSN."""

    bsn = Bsn(required=True)


class SubjectShape(Object):
    """The envelope's view of a subject: an object with exactly one of bsn/pseudonym.

    The values are passed on unchecked; ``load_subject`` checks their syntax in the later
    pipeline step. For the OpenAPI document it is a reference to ``Subject``.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(SubjectSchema, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict):
            raise self.make_error("type")
        errors: dict[str, Any] = {
            key: ["Unknown field; it is not part of this message."]
            for key in value
            if key not in SUBJECT_KEYS
        }
        if sum(key in value for key in SUBJECT_KEYS) != 1:
            errors["_schema"] = [EXACTLY_ONE]
        if errors:
            raise ValidationError(errors)
        return dict(value)


def load_subject(data: object) -> dict[str, str]:
    """Check a subject's syntax (elfproef, pseudonym alphabet); paths start ``subject``."""
    return load_with(_SUBJECT, data, prefix="subject")


_SUBJECT = SubjectSchema()
