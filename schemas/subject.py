"""The child an exchange, signal or consent is about.

A subject names the child in exactly one way (API.md section 3, extended for polymorphic
mode, docs/polymorphic.md):

- ``{"bsn": ...}`` or ``{"pseudonym": ...}`` (a pseudonym the gateway issued to the sender);
- ``{"polymorphic": ...}``: the BSN encrypted by the sender under the master public key, with
  its link tag and proof, so that the gateway never sees the BSN;
- ``{"encrypted_pseudonym": ..., "received_in": ...}``: the sender's own polymorphic-mode
  pseudonym, encrypted under its own key, with a proof that it is the child of an exchange it
  received (exchanges only).

The exchange pipeline checks the shape early (envelope, step 5) and the syntax later (step 9),
so this module offers both checks separately.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validates_schema

from schemas.base import StrictSchema, load_with
from schemas.fields import (
    Bsn,
    DeliveredPseudonym,
    EncryptedPseudonym,
    Object,
    Polymorphic,
    Pseudonym,
)
from schemas.messages.reference import ExchangeReference

SUBJECT_KEYS: tuple[str, ...] = ("bsn", "pseudonym", "polymorphic", "encrypted_pseudonym")
ALLOWED_KEYS: tuple[str, ...] = (*SUBJECT_KEYS, "received_in")
EXACTLY_ONE = "Must hold exactly one of bsn, pseudonym, polymorphic or encrypted_pseudonym."
RECEIVED_IN_NEEDED = "encrypted_pseudonym needs received_in, and only it takes received_in."


def _shape_problems(value: dict) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if sum(key in value for key in SUBJECT_KEYS) != 1:
        errors["_schema"] = [EXACTLY_ONE]
    elif ("encrypted_pseudonym" in value) != ("received_in" in value):
        errors["received_in"] = [RECEIVED_IN_NEEDED]
    return errors


class SubjectSchema(StrictSchema):
    """A child named by BSN, by a pseudonym, or in polymorphic mode."""

    bsn = Bsn()
    pseudonym = Pseudonym()
    polymorphic = Polymorphic()
    encrypted_pseudonym = EncryptedPseudonym()
    received_in = ExchangeReference()

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _exactly_one(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        if isinstance(original, dict):
            errors = _shape_problems(original)
            if errors:
                raise ValidationError(errors)


class DeliveredSubjectSchema(StrictSchema):
    """The subject as a recipient receives it: the BSN (where the route gives it), its own
    pseudonym, or in polymorphic mode its pseudonym encrypted for it alone."""

    bsn = Bsn()
    pseudonym = Pseudonym()
    encrypted_pseudonym = DeliveredPseudonym()


class OneOfSubjectSchema(StrictSchema):
    """A child named in exactly one of the ways in ``ways``, each a field of the subclass.

    Neither: ``bsn`` is missing (the one way every such body took before the others were
    added); more than one: the subject.
    """

    ways: tuple[str, ...] = ()

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _exactly_one(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        if not isinstance(original, dict):
            return
        given = [key for key in self.ways if key in original]
        if not given:
            raise ValidationError({"bsn": [self.fields["bsn"].error_messages["required"]]})
        if len(given) > 1:
            listed = ", ".join(self.ways[:-1]) + " or " + self.ways[-1]
            raise ValidationError(f"Must hold exactly one of {listed}.")


class BsnSubjectSchema(OneOfSubjectSchema):
    """A child named by BSN, or by its polymorphic encryption: consents and subject access
    reports start from what the caller knows of the child, never from a pseudonym."""

    ways = ("bsn", "polymorphic")
    bsn = Bsn()
    polymorphic = Polymorphic()


class SubjectShape(Object):
    """The envelope's view of a subject: an object naming the child in exactly one way.

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
            if key not in ALLOWED_KEYS
        }
        errors.update(_shape_problems(value))
        if errors:
            raise ValidationError(errors)
        return dict(value)


def load_subject(data: object) -> dict[str, str]:
    """Check a subject's syntax (elfproef, pseudonym alphabet); paths start ``subject``."""
    return load_with(_SUBJECT, data, prefix="subject")


_SUBJECT = SubjectSchema()
