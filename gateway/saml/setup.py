"""What identity provider to trust and how to read its assertions: the ``saml`` set-up.

Three sources, in this order (API.md sections 10 and 12):

1. ``GATEWAY_SAML_IDP_METADATA`` (a file path) overrides the IdP metadata of the stored block,
   and on its own configures SAML with the default attribute names and role values;
2. the bootstrap file's ``saml:`` block, stored by ``gateway bootstrap`` in ``saml_settings``
   (the metadata document itself, so that every replica uses the same one);
3. in development only, the built-in IdP (:mod:`gateway.saml.devidp`).

Production without any of them has no SAML: ``/login`` says so in Dutch.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..storage.database import Database
from ..storage.models import utcnow
from .models import SamlSettingsRow

MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
BINDING_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"

DEFAULT_ATTRIBUTES = {
    "role": "urn:oid:1.3.6.1.4.1.5923.1.1.1.7",
    "org": "urn:nl:oin",
    "name": "urn:oid:2.16.840.1.113730.3.1.241",
}
ROLES = ("privacy_officer", "admin")
DEFAULT_ROLES = {"privacy_officer": ("privacy-officer",), "admin": ("gateway-admin",)}
BLOCK_KEYS = {"idp_metadata_file", "attributes", "roles", "idps"}
MAX_METADATA_BYTES = 1024 * 1024


@dataclass(frozen=True)
class SamlSetup:
    """A usable configuration: the IdP's metadata and how attributes map to roles."""

    idp_metadata: str
    attributes: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ATTRIBUTES))
    roles: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_ROLES))
    source: str = "bootstrap"
    metadata_file: str = ""

    @property
    def fingerprint(self) -> str:
        """Changes whenever anything that shapes the pysaml2 client changes."""
        parts = [self.idp_metadata, repr(sorted(self.attributes.items()))]
        parts.append(repr(sorted(self.roles.items())))
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def metadata_problem(document: str) -> str | None:
    """Why ``document`` is not usable IdP metadata (None when it is).

    Parsed with defusedxml (no DTDs, no entities); it must describe exactly one IdP with an
    HTTP-Redirect single sign-on endpoint and a signing certificate, since we send requests by
    redirect and accept only signed assertions.
    """
    if len(document.encode("utf-8")) > MAX_METADATA_BYTES:
        return "the IdP metadata is larger than 1 MiB"
    try:
        root = fromstring(document, forbid_dtd=True)
    except (DefusedXmlException, SyntaxError, ValueError):
        return "the IdP metadata is not well-formed XML (DTDs and entities are refused)"
    entities = (
        [root] if root.tag == f"{MD}EntityDescriptor" else root.findall(f"{MD}EntityDescriptor")
    )
    idps = [e for e in entities if e.find(f"{MD}IDPSSODescriptor") is not None]
    if len(idps) != 1:
        return "the IdP metadata must describe exactly one identity provider"
    descriptor = idps[0].find(f"{MD}IDPSSODescriptor")
    if not idps[0].get("entityID"):
        return "the IdP metadata has no entityID"
    sso = [
        s
        for s in descriptor.findall(f"{MD}SingleSignOnService")
        if s.get("Binding") == BINDING_REDIRECT and s.get("Location")
    ]
    if not sso:
        return "the IdP has no HTTP-Redirect SingleSignOnService"
    for key in descriptor.findall(f"{MD}KeyDescriptor"):
        if key.get("use") in (None, "signing") and key.find(f".//{DS}X509Certificate") is not None:
            return None
    return "the IdP metadata has no signing certificate"


def block_problems(block: dict, base_dir: Path) -> tuple[list[tuple[tuple, str]], SamlSetup | None]:
    """Check a bootstrap ``saml:`` block; (problems as (path suffix, message), the set-up).

    Relative paths are relative to the bootstrap file's folder (``base_dir``).
    """
    problems: list[tuple[tuple, str]] = []
    if "idps" in block and not {"idp_metadata_file", "attributes", "roles"} & set(block):
        return [], None  # only registered IdPs (gateway.saml.idps), no single IdP
    for key in block:
        if key not in BLOCK_KEYS:
            problems.append(((key,), f"unknown key (allowed: {', '.join(sorted(BLOCK_KEYS))})"))
    attributes = dict(DEFAULT_ATTRIBUTES)
    given = block.get("attributes", {})
    if not isinstance(given, dict):
        problems.append((("attributes",), "must be a mapping"))
    else:
        for name, value in given.items():
            if name not in DEFAULT_ATTRIBUTES:
                allowed = ", ".join(DEFAULT_ATTRIBUTES)
                problems.append((("attributes", name), f"unknown attribute (allowed: {allowed})"))
            elif not isinstance(value, str) or not 1 <= len(value) <= 200:
                problems.append((("attributes", name), "must be an attribute name"))
            else:
                attributes[name] = value
    roles = dict(DEFAULT_ROLES)
    given = block.get("roles", {})
    if not isinstance(given, dict):
        problems.append((("roles",), "must be a mapping"))
    else:
        for name, values in given.items():
            ok = (
                isinstance(values, list)
                and values
                and all(isinstance(v, str) and 1 <= len(v) <= 200 for v in values)
            )
            if name not in ROLES:
                problems.append((("roles", name), f"unknown role (allowed: {', '.join(ROLES)})"))
            elif not ok:
                problems.append((("roles", name), "must be a non-empty list of attribute values"))
            else:
                roles[name] = tuple(values)
    document, file_name = None, block.get("idp_metadata_file")
    if not isinstance(file_name, str) or not file_name:
        problems.append((("idp_metadata_file",), "is required: a path to the IdP's metadata"))
    else:
        path = (base_dir / file_name).resolve()
        try:
            document = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            problems.append((("idp_metadata_file",), f"cannot read {path}"))
        else:
            problem = metadata_problem(document)
            if problem:
                problems.append((("idp_metadata_file",), problem))
    if problems or document is None:
        return problems, None
    return [], SamlSetup(document, attributes, roles, "bootstrap", str(path))


class SamlSetupStore:
    """Reads and writes the stored ``saml`` block; applies the environment override."""

    def __init__(self, db: Database, metadata_override: str | None = None) -> None:
        self.db = db
        self.metadata_override = metadata_override

    def load(self) -> SamlSetup | None:
        """The configured set-up, or None when neither the database nor the environment has one.

        Raises ``ValueError`` naming ``GATEWAY_SAML_IDP_METADATA`` when that file is unusable:
        an operator who set it means it, and silently ignoring it would log people in against
        another IdP.
        """
        with self.db.session() as session:
            row = session.get(SamlSettingsRow, 1)
        setup = None
        if row is not None:
            roles = {name: tuple(values) for name, values in row.roles.items()}
            setup = SamlSetup(
                row.idp_metadata, dict(row.attributes), roles, "bootstrap", row.metadata_file
            )
        if self.metadata_override:
            path = Path(self.metadata_override)
            try:
                document = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                raise ValueError(f"GATEWAY_SAML_IDP_METADATA: cannot read {path}") from None
            problem = metadata_problem(document)
            if problem:
                raise ValueError(f"GATEWAY_SAML_IDP_METADATA: {problem}")
            base = setup or SamlSetup(document)
            setup = SamlSetup(document, base.attributes, base.roles, "environment", str(path))
        return setup


def save_setup(session: Session, setup: SamlSetup) -> str:
    """Store ``setup`` as the single ``saml_settings`` row: 'created', 'updated' or 'unchanged'."""
    row = session.scalars(select(SamlSettingsRow).where(SamlSettingsRow.id == 1)).first()
    wanted = {
        "attributes": dict(setup.attributes),
        "roles": {name: list(values) for name, values in setup.roles.items()},
        "idp_metadata": setup.idp_metadata,
        "metadata_file": setup.metadata_file,
    }
    if row is None:
        session.add(SamlSettingsRow(id=1, updated_at=utcnow(), **wanted))
        return "created"
    if all(getattr(row, name) == value for name, value in wanted.items()):
        return "unchanged"
    for name, value in wanted.items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    return "updated"
