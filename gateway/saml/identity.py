"""Who logged in: the NameID, and the role and organisation from the configured attributes.

Roles are the gateway's (``privacy_officer``, ``admin``); the IdP's attribute values are mapped
to them by the ``saml.roles`` configuration. Unknown values give no role, so a person the IdP
knows but the gateway does not gets a Dutch "no access" page rather than an error.
"""

from __future__ import annotations

from dataclasses import dataclass

from .setup import SamlSetup


@dataclass(frozen=True)
class SamlIdentity:
    """The facts of one verified assertion that the web session keeps."""

    name_id: str
    name_id_format: str | None
    session_index: str | None
    display_name: str
    org_oin: str | None
    roles: tuple[str, ...]
    idp: str | None = None
    """The key of the IdP that signed the person in (:mod:`gateway.saml.idps`)."""


def attribute_values(assertion) -> dict[str, list[str]]:
    """Every attribute of a pysaml2 assertion by its ``Name`` (the configured URIs)."""
    values: dict[str, list[str]] = {}
    for statement in assertion.attribute_statement or []:
        for attribute in statement.attribute or []:
            texts = [(v.text or "").strip() for v in attribute.attribute_value or []]
            values.setdefault(attribute.name, []).extend(t for t in texts if t)
    return values


def roles_from(values: dict[str, list[str]], setup: SamlSetup) -> tuple[str, ...]:
    """The gateway roles named by the role attribute's values, in a fixed order."""
    given = set(values.get(setup.attributes["role"], []))
    return tuple(role for role, accepted in sorted(setup.roles.items()) if given & set(accepted))


def identity_from(assertion, setup: SamlSetup) -> SamlIdentity:
    values = attribute_values(assertion)
    name_id = assertion.subject.name_id
    orgs = values.get(setup.attributes["org"], [])
    names = values.get(setup.attributes["name"], [])
    session_index = None
    for statement in assertion.authn_statement or []:
        session_index = statement.session_index or session_index
    text = (name_id.text or "").strip()
    return SamlIdentity(
        name_id=text,
        name_id_format=name_id.format,
        session_index=session_index,
        display_name=(names[0] if names else text)[:200],
        org_oin=orgs[0] if len(orgs) == 1 else None,
        roles=roles_from(values, setup),
    )
