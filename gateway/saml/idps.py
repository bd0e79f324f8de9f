"""The registered identity providers, and which organisations each may vouch for (issue 21).

Three kinds of IdP sign people in:

- the registered ones (``saml_idps``: the bootstrap file's ``saml.idps`` list and the admin
  pages), each with its metadata, binding, encryption, attribute profile, roles and the
  organisations it may vouch for;
- the single IdP of the ``saml:`` block or ``GATEWAY_SAML_IDP_METADATA`` (key ``default``),
  which is the ``oin`` profile trusted as before: its assertion names the OIN;
- in development without a ``saml:`` block, the built-in IdP (key ``development``).

An IdP vouches for an organisation either by an explicit list of OINs, or (``organisations``
absent) for every organisation whose registry entry carries the identifier it asserts (the
BRIN of an Entree school, the KvK number of an eHerkenning company). A verified login naming an
organisation the IdP may not vouch for is refused with a Dutch explanation
(:class:`NotVouched`), which the ACS writes as ``auth.failure``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..storage.models import Organisation, utcnow
from .errors import RefusedResponse
from .metadata import MetadataError, expired, read_metadata, refresh_row
from .models import SamlIdpRow
from .profiles import ATTRIBUTES, IDENTIFIER, PROFILES, Claim, sufficient_assurance
from .setup import DEFAULT_ROLES, ROLES, SamlSetup, metadata_problem

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
BINDINGS = ("post", "artifact")
STATUSES = ("active", "suspended")
IDP_KEYS = {
    "key",
    "name",
    "status",
    "profile",
    "entity_id",
    "metadata_file",
    "metadata_url",
    "metadata_signing_cert_file",
    "binding",
    "encrypt_assertions",
    "authn_context",
    "organisations",
    "roles",
    "attributes",
}
OIN_PATTERN = re.compile(r"^\d{20}$")
LEGACY_KEY = "default"
DEVELOPMENT_KEY = "development"


@dataclass(frozen=True)
class IdentityProvider:
    """One IdP as a login uses it."""

    key: str
    name: str
    profile: str
    entity_id: str
    metadata_xml: str
    binding: str = "post"
    encrypt_assertions: bool = False
    authn_context: tuple[str, ...] = ()
    organisations: tuple[str, ...] | None = None
    roles: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_ROLES))
    attributes: dict[str, str] = field(default_factory=dict)
    status: str = "active"
    valid_until: datetime | None = None
    source: str = "registry"

    @property
    def fingerprint(self) -> str:
        """Changes whenever anything that shapes this IdP's pysaml2 client changes."""
        parts = [self.key, self.entity_id, self.metadata_xml, self.binding]
        parts += [repr(self.encrypt_assertions), repr(self.authn_context)]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def attribute_names(self) -> dict[str, str]:
        return {**ATTRIBUTES[self.profile], **self.attributes}

    def usable(self, now: datetime) -> bool:
        return (
            self.status == "active"
            and bool(self.metadata_xml)
            and not expired(self.valid_until, now)
        )


def from_setup(setup: SamlSetup, key: str, name: str, source: str) -> IdentityProvider:
    """The single IdP of a ``saml:`` block (or the development IdP) as the ``oin`` profile."""
    from defusedxml.ElementTree import fromstring

    root = fromstring(setup.idp_metadata, forbid_dtd=True)
    md = "{urn:oasis:names:tc:SAML:2.0:metadata}"
    entities = (
        [root] if root.tag == f"{md}EntityDescriptor" else root.findall(f"{md}EntityDescriptor")
    )
    entity_id = next(
        (e.get("entityID") for e in entities if e.find(f"{md}IDPSSODescriptor") is not None), ""
    )
    return IdentityProvider(
        key=key,
        name=name,
        profile="oin",
        entity_id=entity_id or "",
        metadata_xml=setup.idp_metadata,
        roles=dict(setup.roles),
        attributes=dict(setup.attributes),
        source=source,
    )


def from_row(row: SamlIdpRow) -> IdentityProvider:
    return IdentityProvider(
        key=row.key,
        name=row.name,
        profile=row.profile,
        entity_id=row.entity_id,
        metadata_xml=row.metadata_xml or "",
        binding=row.binding,
        encrypt_assertions=row.encrypt_assertions,
        authn_context=tuple(row.authn_context or ()),
        organisations=tuple(row.organisations) if row.organisations is not None else None,
        roles={name: tuple(values) for name, values in (row.roles or {}).items()},
        attributes=dict(row.attributes or {}),
        status=row.status,
        valid_until=row.valid_until,
    )


def registered(session: Session) -> list[IdentityProvider]:
    rows = session.scalars(select(SamlIdpRow).order_by(SamlIdpRow.name, SamlIdpRow.key))
    return [from_row(row) for row in rows]


# vouching ------------------------------------------------------------------------------------
NOT_VOUCHED = (
    "U bent bij uw identiteitsprovider ingelogd, maar {idp} mag niet namens uw organisatie "
    "inloggen bij de gateway. Er is geen sessie aangemaakt. Kies op de inlogpagina het "
    "inlogmiddel van uw eigen organisatie, of vraag de beheerder van de gateway om deze "
    "identiteitsprovider voor uw organisatie te registreren."
)
UNKNOWN = (
    "U bent bij uw identiteitsprovider ingelogd, maar de organisatie die {idp} voor u noemt "
    "({what} {value}) is niet bij de gateway geregistreerd. Er is geen sessie aangemaakt. Vraag "
    "de beheerder van de gateway om uw organisatie met dit nummer te registreren."
)
AMBIGUOUS = (
    "U bent bij uw identiteitsprovider ingelogd, maar het {what} {value} hoort bij meer dan één "
    "organisatie in de gateway, zodat niet vaststaat namens welke organisatie u werkt. Er is geen "
    "sessie aangemaakt. Vraag de beheerder van de gateway om het vestigingsnummer bij uw "
    "organisatie te registreren."
)
MISSING = (
    "U bent bij uw identiteitsprovider ingelogd, maar {idp} heeft niet (of niet eenduidig) "
    "doorgegeven namens welke organisatie u werkt. Er is geen sessie aangemaakt."
)
LOW_ASSURANCE = (
    "U bent ingelogd met een eHerkenningsmiddel van een te laag betrouwbaarheidsniveau. De "
    "gateway vraagt ten minste niveau EH3 (loa3), omdat hij gegevens over kinderen toont. Er is "
    "geen sessie aangemaakt. Vraag bij uw eHerkenningsleverancier een middel van niveau EH3 of "
    "hoger aan en log opnieuw in."
)
WHAT = {"brin": "BRIN-nummer", "kvk": "KvK-nummer", "oin": "OIN"}


class NotVouched(RefusedResponse):
    """A verified login whose organisation this IdP may not vouch for (audited)."""

    status = 403
    code = "saml_not_vouched"

    def __init__(self, reason: str, message: str, actor_org: str | None = None) -> None:
        super().__init__(reason, message)
        self.reason = reason
        self.actor_org = actor_org
        self.actor_user: str | None = None


def resolve_organisation(session: Session, idp: IdentityProvider, claim: Claim) -> str | None:
    """The OIN of the organisation the person signs in for; raises :class:`NotVouched`.

    ``oin`` profile without an explicit list: the asserted OIN as before (an unregistered one
    gives the "no access" page, not a refusal).
    """
    if idp.profile == "eherkenning" and not sufficient_assurance(claim.assurance):
        raise NotVouched("saml_assurance_too_low", LOW_ASSURANCE)
    if idp.profile == "oin":
        oin = claim.identifier
        if idp.organisations is not None and oin not in idp.organisations:
            raise NotVouched("saml_idp_not_vouched", NOT_VOUCHED.format(idp=idp.name), None)
        return oin
    field_name = IDENTIFIER[idp.profile]
    if claim.identifier is None:
        raise NotVouched("saml_organisation_missing", MISSING.format(idp=idp.name))
    column = getattr(Organisation, field_name)
    if idp.profile == "eherkenning":
        wanted = [claim.identifier] + (
            [f"{claim.identifier}/{claim.branch}"] if claim.branch else []
        )
        found = session.scalars(select(Organisation).where(column.in_(wanted))).all()
        exact = [o for o in found if claim.branch and o.kvk == f"{claim.identifier}/{claim.branch}"]
        found = exact or found
    else:
        found = session.scalars(select(Organisation).where(column == claim.identifier)).all()
    what = WHAT[field_name]
    if not found:
        raise NotVouched(
            "saml_organisation_unknown",
            UNKNOWN.format(idp=idp.name, what=what, value=claim.identifier),
        )
    if len(found) > 1:
        raise NotVouched(
            "saml_organisation_ambiguous", AMBIGUOUS.format(what=what, value=claim.identifier)
        )
    oin = found[0].oin
    if idp.organisations is not None and oin not in idp.organisations:
        raise NotVouched("saml_idp_not_vouched", NOT_VOUCHED.format(idp=idp.name), oin)
    return oin


def roles_of(claim: Claim, idp: IdentityProvider) -> tuple[str, ...]:
    return tuple(
        role for role, accepted in sorted(idp.roles.items()) if claim.role_values & set(accepted)
    )


# registration --------------------------------------------------------------------------------
@dataclass
class IdpPlan:
    """A checked registration (bootstrap entry or admin form)."""

    key: str
    name: str
    status: str
    profile: str
    entity_id: str
    binding: str
    encrypt_assertions: bool
    authn_context: list[str]
    organisations: list[str] | None
    roles: dict[str, list[str]]
    attributes: dict[str, str]
    metadata_url: str | None = None
    metadata_file: str | None = None
    metadata_signer: str | None = None
    metadata_xml: str | None = None
    valid_until: datetime | None = None


def _text(value, limit: int) -> bool:
    return isinstance(value, str) and 1 <= len(value.strip()) <= limit


def idp_problems(
    item: dict,
    base_dir: Path,
    now: datetime,
    *,
    production: bool = False,
    signer_pem: str | None = None,
    metadata_document: bytes | None = None,
) -> tuple[list[tuple[tuple, str]], IdpPlan | None]:
    """Check one ``saml.idps`` entry; (problems as (path suffix, message), the plan).

    A metadata file is read (and checked, with its signer's certificate when one is given)
    now; a metadata URL is fetched when the plan is stored. The admin page passes the
    signer's certificate and a pasted metadata document directly (``signer_pem``,
    ``metadata_document``) instead of file names.
    """
    problems: list[tuple[tuple, str]] = []
    for key in item:
        if key not in IDP_KEYS:
            problems.append(((key,), f"unknown key (allowed: {', '.join(sorted(IDP_KEYS))})"))
    key = item.get("key")
    if (
        not isinstance(key, str)
        or not KEY_PATTERN.match(key)
        or key in (LEGACY_KEY, DEVELOPMENT_KEY)
    ):
        problems.append(
            (("key",), "must be 1-40 lowercase letters, digits or '-' (not default or development)")
        )
    name = item.get("name", key)
    if not _text(name, 200):
        problems.append((("name",), "must be 1-200 characters"))
    status = item.get("status", "active")
    if status not in STATUSES:
        problems.append((("status",), "must be active or suspended"))
    profile = item.get("profile")
    if profile not in PROFILES:
        problems.append((("profile",), f"must be one of {', '.join(PROFILES)}"))
    binding = item.get("binding", "post")
    if binding not in BINDINGS:
        problems.append((("binding",), "must be post or artifact"))
    encrypt = item.get("encrypt_assertions", profile == "eherkenning")
    if encrypt not in (True, False):
        problems.append((("encrypt_assertions",), "must be true or false"))
    authn_context = item.get(
        "authn_context",
        ["urn:etoegang:core:assurance-class:loa3"] if profile == "eherkenning" else [],
    )
    if not isinstance(authn_context, list) or not all(_text(v, 200) for v in authn_context):
        problems.append((("authn_context",), "must be a list of AuthnContextClassRef URIs"))
    organisations = item.get("organisations", "by_identifier")
    if organisations == "by_identifier":
        organisations = None
    elif (
        not isinstance(organisations, list)
        or not organisations
        or not all(isinstance(o, str) and OIN_PATTERN.match(o) for o in organisations)
    ):
        problems.append((("organisations",), "must be by_identifier or a list of 20-digit OINs"))
    roles = {name: list(values) for name, values in DEFAULT_ROLES.items()}
    given = item.get("roles", {})
    if not isinstance(given, dict):
        problems.append((("roles",), "must be a mapping"))
    else:
        for role, values in given.items():
            if role not in ROLES:
                problems.append((("roles", role), f"unknown role (allowed: {', '.join(ROLES)})"))
            elif (
                not isinstance(values, list) or not values or not all(_text(v, 200) for v in values)
            ):
                problems.append((("roles", role), "must be a non-empty list of attribute values"))
            else:
                roles[role] = list(values)
    attributes = item.get("attributes", {})
    allowed = ATTRIBUTES.get(profile, {}) if profile in PROFILES else {}
    if not isinstance(attributes, dict):
        problems.append((("attributes",), "must be a mapping"))
        attributes = {}
    for attribute, value in attributes.items():
        if attribute not in allowed:
            problems.append(
                (("attributes", attribute), f"unknown attribute (allowed: {', '.join(allowed)})")
            )
        elif not _text(value, 200):
            problems.append((("attributes", attribute), "must be an attribute name"))
    entity_id = item.get("entity_id")
    if entity_id is not None and not _text(entity_id, 1000):
        problems.append((("entity_id",), "must be the IdP's entityID"))
    url, file_name = item.get("metadata_url"), item.get("metadata_file")
    if metadata_document is not None:
        file_name = "(pasted)"
    signer = signer_pem or None
    if signer is not None and "-----BEGIN CERTIFICATE-----" not in signer:
        problems.append((("metadata_signing_cert",), "must be a PEM certificate"))
    cert_file = item.get("metadata_signing_cert_file")
    if cert_file is not None:
        try:
            signer = (base_dir / str(cert_file)).resolve().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError, ValueError):
            problems.append((("metadata_signing_cert_file",), f"cannot read {cert_file}"))
        else:
            if "-----BEGIN CERTIFICATE-----" not in signer:
                problems.append((("metadata_signing_cert_file",), "must be a PEM certificate"))
    if (url is None) == (file_name is None):
        problems.append(((), "needs exactly one of metadata_file or metadata_url"))
    plan_xml, valid_until, path_text = None, None, None
    if url is not None:
        if (
            not isinstance(url, str)
            or not url.startswith(("https://", "http://"))
            or len(url) > 2000
        ):
            problems.append((("metadata_url",), "must be an http(s) URL"))
        elif production and not url.startswith("https://"):
            problems.append((("metadata_url",), "must be https in production"))
        if signer is None:
            problems.append(
                (
                    ("metadata_signing_cert_file",),
                    "is required with metadata_url: the certificate that signs the metadata",
                )
            )
        if not isinstance(entity_id, str):
            problems.append((("entity_id",), "is required with metadata_url"))
    elif file_name is not None:
        path = (base_dir / str(file_name)).resolve()
        path_text = str(path) if metadata_document is None else None
        try:
            document = path.read_bytes() if metadata_document is None else metadata_document
        except (OSError, ValueError):
            problems.append((("metadata_file",), f"cannot read {path}"))
        else:
            try:
                entity_id, metadata = read_metadata(document, entity_id, signer, now)
            except MetadataError as exc:
                problems.append((("metadata_file",), exc.message or "unusable metadata"))
            else:
                problem = metadata_problem(metadata.entity_xml)
                if problem:
                    problems.append((("metadata_file",), problem))
                plan_xml, valid_until = metadata.entity_xml, metadata.valid_until
    if problems:
        return problems, None
    return [], IdpPlan(
        key=key,
        name=name.strip(),
        status=status,
        profile=profile,
        entity_id=entity_id,
        binding=binding,
        encrypt_assertions=encrypt,
        authn_context=list(authn_context),
        organisations=list(organisations) if organisations is not None else None,
        roles=roles,
        attributes=dict(attributes),
        metadata_url=url,
        metadata_file=path_text,
        metadata_signer=signer,
        metadata_xml=plan_xml,
        valid_until=valid_until,
    )


CONFIG_FIELDS = (
    "name",
    "status",
    "profile",
    "entity_id",
    "binding",
    "encrypt_assertions",
    "authn_context",
    "organisations",
    "roles",
    "attributes",
    "metadata_url",
    "metadata_file",
    "metadata_signer",
)


def save_idp(session: Session, plan: IdpPlan) -> str:
    """Create or update the IdP's row: 'created', 'updated' or 'unchanged'.

    A URL's metadata is fetched now when it is new or its URL or signer changed (a failure is
    recorded and retried by the refresher); a file's document is stored as read.
    """
    now = utcnow()
    row = session.get(SamlIdpRow, plan.key)
    wanted = {name: getattr(plan, name) for name in CONFIG_FIELDS}
    if plan.metadata_url is None:
        wanted["metadata_xml"] = plan.metadata_xml
        wanted["valid_until"] = plan.valid_until
    outcome = "unchanged"
    if row is None:
        row = SamlIdpRow(key=plan.key, created_at=now, updated_at=now, **wanted)
        session.add(row)
        outcome = "created"
    else:

        def same(name, value):
            current = getattr(row, name)
            if name == "valid_until" and current is not None and value is not None:
                from ..clock import aware

                return aware(current) == value
            return current == value

        changed = {n: v for n, v in wanted.items() if not same(n, v)}
        if changed:
            refetch = {"metadata_url", "metadata_signer", "entity_id"} & set(changed)
            for name, value in changed.items():
                setattr(row, name, value)
            row.updated_at = now
            outcome = "updated"
            if refetch:
                row.refresh_at = None
    if plan.metadata_url is not None and (outcome == "created" or row.refresh_at is None):
        refresh_row(row, now, retry=timedelta(0))  # a failure: the refresher tries again
    if plan.status == "suspended":
        end_sessions(session, plan.key)
    return outcome


def end_sessions(session: Session, key: str) -> int:
    """End every web session the IdP ``key`` started (suspending it)."""
    from ..web.models import WebSessionRow

    return session.execute(delete(WebSessionRow).where(WebSessionRow.idp == key)).rowcount or 0


def set_status(session: Session, key: str, status: str) -> bool:
    """Suspend or activate a registered IdP; suspending ends its sessions. False: unknown."""
    row = session.get(SamlIdpRow, key)
    if row is None:
        return False
    row.status = status
    row.updated_at = utcnow()
    if status == "suspended":
        end_sessions(session, key)
    return True


def by_entity_id(idps: list[IdentityProvider], entity_id: str) -> IdentityProvider | None:
    return next((idp for idp in idps if idp.entity_id == entity_id), None)
