"""Registers every schema as an OpenAPI 3.1 component, for the gateway's OpenAPI document.

The gateway builds an ``apispec.APISpec`` with the ``MarshmallowPlugin`` and calls
``register_schemas`` before adding paths; paths then refer to the components by class or by
name (``ExchangeRequest``, ``InboxItem``, ``Problem``, ...). Component names are the class
names without ``Schema``, the plugin's default, so a schema met again while documenting a
path resolves to the same component. Rules that marshmallow field metadata cannot carry
(exactly one subject key, the payload per message type, ``placed_date`` only when placed) are
added to the generated components here, in JSON Schema 2020-12 terms.
"""

from __future__ import annotations

from apispec import APISpec
from marshmallow import Schema

from schemas.audit import (
    AuditActorSchema,
    AuditEventPageSchema,
    AuditEventSchema,
    SubjectReportRequestSchema,
)
from schemas.consent import (
    ConsentPageSchema,
    ConsentRequestSchema,
    ConsentResponseSchema,
    ConsentSearchSchema,
    ConsentWithdrawSchema,
    EvidenceSchema,
    GrantorSchema,
)
from schemas.contact import ContactSchema
from schemas.exchange import (
    AckResponseSchema,
    AuditRefSchema,
    ExchangeAcceptedSchema,
    ExchangeRequestSchema,
    ExchangeStatusSchema,
    InboxItemSchema,
    InboxPageSchema,
)
from schemas.messages import EXCHANGE_MESSAGE_TYPES, MESSAGE_SCHEMAS, OtherPartySchema
from schemas.problem import ProblemSchema
from schemas.reidentification import (
    ReidentificationApproveSchema,
    ReidentificationRefuseSchema,
    ReidentificationRequestSchema,
    ReidentificationResponseSchema,
)
from schemas.responses import LegalBasisSchema, OrganisationRefSchema
from schemas.signal import SignalRequestSchema, SignalResponseSchema
from schemas.subject import BsnSubjectSchema, DeliveredSubjectSchema, SubjectSchema

_LEAVES: tuple[type[Schema], ...] = (
    ContactSchema,
    SubjectSchema,
    BsnSubjectSchema,
    DeliveredSubjectSchema,
    OtherPartySchema,
    OrganisationRefSchema,
    LegalBasisSchema,
    AuditRefSchema,
    GrantorSchema,
    EvidenceSchema,
    AuditActorSchema,
)

_BODIES: tuple[type[Schema], ...] = (
    ExchangeRequestSchema,
    ExchangeAcceptedSchema,
    ExchangeStatusSchema,
    InboxItemSchema,
    InboxPageSchema,
    AckResponseSchema,
    ConsentRequestSchema,
    ConsentWithdrawSchema,
    ConsentSearchSchema,
    ConsentResponseSchema,
    ConsentPageSchema,
    SignalRequestSchema,
    SignalResponseSchema,
    ReidentificationRequestSchema,
    ReidentificationApproveSchema,
    ReidentificationRefuseSchema,
    ReidentificationResponseSchema,
    SubjectReportRequestSchema,
    AuditEventSchema,
    AuditEventPageSchema,
    ProblemSchema,
)

COMPONENT_SCHEMAS: dict[str, type[Schema]] = {
    cls.__name__.removesuffix("Schema"): cls
    for cls in (*_LEAVES, *MESSAGE_SCHEMAS.values(), *_BODIES)
}
"""Component name -> schema class, in registration order (nested schemas first)."""


def register_schemas(spec: APISpec) -> None:
    """Add every schema of this package to ``spec.components``; names already there are kept.

    ``spec`` must use ``apispec.ext.marshmallow.MarshmallowPlugin``.
    """
    for name, schema in COMPONENT_SCHEMAS.items():
        if name not in spec.components.schemas:
            spec.components.schema(name, schema=schema)
    _refine(spec)


def _refine(spec: APISpec) -> None:
    """Add the cross-field rules that marshmallow metadata cannot express."""
    schemas = spec.components.schemas
    for name in ("BsnSubject", "DeliveredSubject"):
        schemas[name].update({"minProperties": 1, "maxProperties": 1})
    schemas["Subject"]["oneOf"] = [
        {"required": ["bsn"], "maxProperties": 1},
        {"required": ["pseudonym"], "maxProperties": 1},
        {"required": ["polymorphic"], "maxProperties": 1},
        {"required": ["encrypted_pseudonym", "received_in"], "maxProperties": 2},
    ]
    payload = schemas["ExchangeRequest"]["properties"]["payload"]
    payload["oneOf"] = [
        spec.components.get_ref("schema", MESSAGE_SCHEMAS[kind].__name__.removesuffix("Schema"))
        for kind in EXCHANGE_MESSAGE_TYPES
    ]
    schemas["HomeboundReport"].update(
        {
            "if": {
                "properties": {"perspective": {"const": "placed"}},
                "required": ["perspective"],
            },
            "then": {"required": ["placed_date"]},
            "else": {"not": {"required": ["placed_date"]}},
        }
    )
