"""``case_agreements``: the outcome of a consultation, sent by the convener to every
accepted participant (docs/pact-workflows.md section 3.3).

The convener records the agreements with ``POST /api/v1/cases/{case_ref}/agreements``
(``schemas.cases.CaseAgreementsSchema``: parties by OIN or word); the case service resolves
them into this payload, with every party named as the participants know it and every
agreement numbered, and sends it through the pipeline. Due dates are checked against the day
of recording there, not here: the same agreements go later to an invitee that accepts late,
when a due date may have passed. Agreements are codes (``action``), never free text.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validates_schema

from schemas.base import StrictSchema
from schemas.dates import DatedSchema, StrictDate
from schemas.fields import Choice, ListOf, Object, Oin, Text, bounded_integer
from schemas.messages.case_parts import MAX_AGREEMENTS, CaseOrganisationSchema
from schemas.vocabulary import AGREEMENT_ACTIONS, AGREEMENT_PARTY_ROLES, ORGANISATION_TYPES


class AgreementPartySchema(StrictSchema):
    """An organisation (``oin``, ``name``, ``type``) or a person by role (``role``)."""

    oin = Oin()
    name = Text(max_length=200)
    type = Choice(ORGANISATION_TYPES)
    role = Choice(AGREEMENT_PARTY_ROLES)

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _organisation_or_role(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        if not isinstance(original, dict):
            return
        organisation = [key for key in ("oin", "name", "type") if key in original]
        if "role" in original and organisation:
            raise ValidationError("Must be an organisation (oin, name, type) or a role, not both.")
        if "role" not in original and len(organisation) != 3:
            raise ValidationError("Must hold oin, name and type, or role.")


class AgreementSchema(StrictSchema):
    """One agreement as the participants receive it, numbered from 1."""

    no = bounded_integer(1, MAX_AGREEMENTS, required=True)
    party = Object(AgreementPartySchema, required=True)
    action = Choice(AGREEMENT_ACTIONS, required=True)
    due_date = StrictDate(required=True)


class CaseAgreementsMessageSchema(DatedSchema):
    """Payload of ``case_agreements``."""

    regie = Object(CaseOrganisationSchema, required=True)
    agreements = ListOf(
        Object(AgreementSchema), required=True, min_items=1, max_items=MAX_AGREEMENTS
    )
    next_review_date = StrictDate(required=True)

    @validates_schema(skip_on_field_errors=True)
    def _numbered_in_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        for index, agreement in enumerate(data.get("agreements", [])):
            if agreement.get("no") != index + 1:
                raise ValidationError({"agreements": {index: {"no": [f"Must be {index + 1}."]}}})
