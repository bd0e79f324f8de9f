"""Attribute profiles: how an IdP's assertion names the person's organisation and roles.

Each federation names the organisation differently, so each registered IdP has a profile:

- ``oin``: the organisation's OIN in ``urn:nl:oin`` (the gateway's own IdP, API.md section 10,
  and any IdP the operator runs with that attribute);
- ``entree``: a school through Entree (Kennisnet): its BRIN in
  ``nlEduPersonHomeOrganizationId``, matched against the registry's ``brin``; the role in
  ``eduPersonEntitlement``;
- ``eherkenning``: a company or public body through an eHerkenning broker: its KvK number in
  ``urn:etoegang:1.9:EntityConcernedID:KvKnr`` and optionally the vestigingsnummer in
  ``urn:etoegang:1.9:ServiceRestriction:Vestigingsnr``, matched against the registry's ``kvk``
  (``12345678`` or ``12345678/000012345678``); the level of assurance
  (``AuthnContextClassRef``) must be at least ``urn:etoegang:core:assurance-class:loa3``.

Every attribute name can be overridden per IdP (``attributes``), and the IdP's role values
map to the gateway's roles (``roles``). What a profile reads is a :class:`Claim`; whether the
IdP may vouch for the organisation it names is decided in :mod:`gateway.saml.idps`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .identity import attribute_values

PROFILES = ("oin", "entree", "eherkenning")
LOA_PREFIX = "urn:etoegang:core:assurance-class:"
LOA_ORDER = ("loa1", "loa2", "loa2plus", "loa3", "loa4")
MINIMUM_LOA = "urn:etoegang:core:assurance-class:loa3"

ATTRIBUTES = {
    "oin": {
        "org": "urn:nl:oin",
        "role": "urn:oid:1.3.6.1.4.1.5923.1.1.1.7",
        "name": "urn:oid:2.16.840.1.113730.3.1.241",
    },
    "entree": {
        "org": "nlEduPersonHomeOrganizationId",
        "role": "eduPersonEntitlement",
        "name": "displayName",
    },
    "eherkenning": {
        "org": "urn:etoegang:1.9:EntityConcernedID:KvKnr",
        "branch": "urn:etoegang:1.9:ServiceRestriction:Vestigingsnr",
        "role": "urn:oid:1.3.6.1.4.1.5923.1.1.1.7",
        "name": "urn:oid:2.16.840.1.113730.3.1.241",
    },
}
IDENTIFIER = {"oin": "oin", "entree": "brin", "eherkenning": "kvk"}
"""The registry field each profile's organisation identifier is matched against."""


@dataclass(frozen=True)
class Claim:
    """What an assertion says about the organisation, read by the IdP's profile."""

    identifier: str | None
    """The asserted value (OIN, BRIN or KvK number), None when absent or ambiguous."""
    branch: str | None
    role_values: frozenset[str]
    display_name: str | None
    assurance: str | None


def loa_rank(class_ref: str | None) -> int:
    """The position of an eHerkenning assurance class (-1 for anything else)."""
    if not class_ref or not class_ref.startswith(LOA_PREFIX):
        return -1
    name = class_ref[len(LOA_PREFIX) :]
    return LOA_ORDER.index(name) if name in LOA_ORDER else -1


def sufficient_assurance(class_ref: str | None, minimum: str = MINIMUM_LOA) -> bool:
    return loa_rank(class_ref) >= loa_rank(minimum) >= 0


def authn_class(assertion) -> str | None:
    for statement in assertion.authn_statement or []:
        context = statement.authn_context
        if context is not None and context.authn_context_class_ref is not None:
            return (context.authn_context_class_ref.text or "").strip() or None
    return None


def _single(values: list[str]) -> str | None:
    return values[0] if len(values) == 1 else None


def read_claim(assertion, profile: str, attributes: dict[str, str]) -> Claim:
    """The profile's reading of a verified assertion (``attributes``: the IdP's names)."""
    values = attribute_values(assertion)
    names = {**ATTRIBUTES[profile], **attributes}
    identifier = _single(values.get(names["org"], []))
    if identifier is not None and profile == "entree":
        identifier = identifier.upper()
    branch = _single(values.get(names["branch"], [])) if "branch" in names else None
    display = values.get(names["name"], [])
    return Claim(
        identifier=identifier,
        branch=branch,
        role_values=frozenset(values.get(names["role"], [])),
        display_name=display[0] if display else None,
        assurance=authn_class(assertion),
    )
