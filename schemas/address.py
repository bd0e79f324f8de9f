"""Role addresses: a recipient named by what it does and where, instead of by its OIN.

A school rarely knows the OIN of the leerplicht office of the municipality where a child lives,
or of the SWV of its region (issue 20; docs/pact-workflows.md section 6.1). It may address

- ``{"type": "leerplicht", "municipality": "0014"}``: the organisation of that type serving
  the municipality (the CBS gemeentecode as 4 digits; ``GM0014`` is refused with a message
  saying so, since it is the form most people copy from CBS tables);
- ``{"type": "swv", "region": "groningen", "education_sector": "po"}``: the one serving the
  pact region (and sector, where given);
- ``ggd`` and ``wij`` likewise.

This module checks the shape only; which organisation an address names is the registry's
question (``gateway.registry.areas.resolve_address``). Schools and the operator are not
addressable by area: a school is chosen by the child's enrolment, not its municipality.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validates_schema

from schemas.base import StrictSchema, load_with
from schemas.fields import OIN_REGEX, Choice, Oin, _Patterned
from schemas.vocabulary import EDUCATION_SECTORS

ADDRESSABLE_TYPES: tuple[str, ...] = ("leerplicht", "swv", "ggd", "wij")
"""Organisation types a role address may name (section 6.1)."""

MUNICIPALITY_PATTERN = r"^[0-9]{4}$"
REGION_PATTERN = r"^[a-z0-9-]{2,40}$"
GM_PREFIXED = "use the 4 digits of the CBS gemeentecode, without GM"
ONE_AREA = "Must hold exactly one of municipality or region."


class Municipality(_Patterned):
    """A CBS gemeentecode as 4 ASCII digits (``0014`` Groningen, ``0356`` Nieuwegein)."""

    pattern = MUNICIPALITY_PATTERN
    message = "Must be a CBS gemeentecode: exactly 4 digits 0-9."

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, str) and value[:2].upper() == "GM":
            raise ValidationError(GM_PREFIXED)
        return super()._deserialize(value, attr, data, **kwargs)


class RegionCode(_Patterned):
    """A pact region's code as the bootstrap file names it (``groningen``, ``lekstroom``)."""

    pattern = REGION_PATTERN
    message = "Must be a region code: 2 to 40 characters of a-z, 0-9 and '-'."


class RoleAddressSchema(StrictSchema):
    """A recipient by role and area: a type, and one municipality or one region."""

    type = Choice(ADDRESSABLE_TYPES, required=True)
    municipality = Municipality()
    region = RegionCode()
    education_sector = Choice(EDUCATION_SECTORS)

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _one_area(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        if isinstance(original, dict) and ("municipality" in original) == ("region" in original):
            raise ValidationError(ONE_AREA)


class Recipient(fields.Field):
    """An envelope's ``recipient``: an OIN (a string) or a role address (an object).

    For the OpenAPI document it is ``oneOf`` the OIN pattern and the ``RoleAddress``
    component (``metadata``); errors of an address keep their own member paths
    (``recipient.municipality``).
    """

    default_error_messages = {
        "required": "This field is required.",
        "null": "This field must not be null.",
        "invalid": "Must be an OIN (20 digits) or a role address object.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "metadata",
            {
                "oneOf": [
                    {"type": "string", "pattern": Oin.pattern},
                    {"$ref": "#/components/schemas/RoleAddress"},
                ],
                "description": "The recipient's OIN, or a role address resolved by the "
                "gateway to the one organisation of that type serving the area.",
            },
        )
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            if not OIN_REGEX.fullmatch(value):
                raise ValidationError(Oin.message)
            return value
        if isinstance(value, dict):
            try:
                return _ADDRESS.load(value)
            except ValidationError as exc:
                raise ValidationError(exc.messages) from None
        raise self.make_error("invalid")


_ADDRESS = RoleAddressSchema()


def load_role_address(value: object, prefix: str = "recipient") -> dict[str, str]:
    """Check a role address; errors under ``<prefix>.<member>`` (``recipient.municipality``,
    ``invite.2.municipality``)."""
    return load_with(_ADDRESS, value, prefix=prefix)


def is_role_address(value: object) -> bool:
    """Whether an envelope's ``recipient`` is an address (an object) rather than an OIN."""
    return isinstance(value, dict)


__all__ = [
    "ADDRESSABLE_TYPES",
    "GM_PREFIXED",
    "Recipient",
    "RoleAddressSchema",
    "is_role_address",
    "load_role_address",
]
