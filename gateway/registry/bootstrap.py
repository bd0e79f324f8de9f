"""``gateway bootstrap FILE``: apply a declarative YAML file of organisations and clients.

The file is the repeatable set-up of a deployment. Applying it is idempotent: a second run
changes nothing, a changed file updates the records it names (records it does not name are left
alone; suspension is explicit, never implied by absence). An invalid file is refused as a whole,
with every problem listed by line, before anything is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, text

from ..storage.database import Database
from ..storage.models import Client, Organisation, utcnow
from . import rules
from .secrets import verify_secret
from .service import ClientCredentials, apply_credentials
from .yamlfile import LocatedDocument, YamlFileError, load_located

TOP_LEVEL_KEYS = {"organisations", "saml", "routes"}
ORGANISATION_KEYS = {"oin", "name", "type", "status", "delivery_url", "polymorphic", "clients"}
CLIENT_KEYS = {
    "client_id",
    "auth",
    "jwks",
    "jwks_file",
    "tls_client_cert_sha256",
    "client_secret",
    "scopes",
}


class BootstrapError(Exception):
    """The file was refused; ``problems`` holds one ``file:line: path: message`` per problem."""

    code = "invalid_bootstrap"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ClientPlan:
    client_id: str
    scopes: list[str]
    credentials: ClientCredentials


@dataclass
class OrganisationPlan:
    oin: str
    name: str
    type: str
    status: str
    delivery_url: str | None
    clients: list[ClientPlan] = field(default_factory=list)
    polymorphic: bool = False


@dataclass
class BootstrapFile:
    """A validated bootstrap file: what to apply, and the raw ``saml`` block."""

    path: Path
    organisations: list[OrganisationPlan]
    saml: dict | None
    routes: list[dict] = field(default_factory=list)
    saml_setup: object | None = None
    """The checked ``saml`` block (:class:`gateway.saml.setup.SamlSetup`), stored on apply."""


@dataclass
class BootstrapReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed)


def _path_text(path: tuple) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(file)"


class _Checker:
    def __init__(self, path: Path, document: LocatedDocument, production: bool) -> None:
        self.path = path
        self.document = document
        self.production = production
        self.problems: list[str] = []

    def problem(self, path: tuple, message: str) -> None:
        line = self.document.line_of(path)
        where = f"{self.path.name}:{line}" if line else self.path.name
        self.problems.append(f"{where}: {_path_text(path)}: {message}")

    def unknown_keys(self, mapping: dict, allowed: set[str], path: tuple) -> None:
        for key in mapping:
            if key not in allowed:
                self.problem((*path, key), f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def check(self) -> BootstrapFile:
        value = self.document.value
        if not isinstance(value, dict):
            self.problem((), "the file must be a mapping with an 'organisations' list")
            raise BootstrapError(self.problems)
        self.unknown_keys(value, TOP_LEVEL_KEYS, ())
        organisations_value = value.get("organisations", [])
        plans: list[OrganisationPlan] = []
        if not isinstance(organisations_value, list):
            self.problem(("organisations",), "must be a list")
        else:
            seen_oins: dict[str, int] = {}
            seen_clients: dict[str, tuple] = {}
            for index, item in enumerate(organisations_value):
                plan = self.organisation(item, ("organisations", index), seen_clients)
                if plan is None:
                    continue
                if plan.oin in seen_oins:
                    self.problem(("organisations", index, "oin"), "is listed twice")
                seen_oins[plan.oin] = index
                plans.append(plan)
        saml = value.get("saml")
        saml_setup = None
        if saml is not None and not isinstance(saml, dict):
            self.problem(("saml",), "must be a mapping")
        elif saml is not None:
            saml_setup = self.saml(saml)
        routes = self.routes(value.get("routes", []))
        if self.problems:
            raise BootstrapError(self.problems)
        return BootstrapFile(self.path, plans, saml, routes, saml_setup)

    def saml(self, block: dict):
        """The ``saml`` block checked by :func:`gateway.saml.setup.block_problems`, with the
        IdP metadata file read now (relative to this file) so that it can be stored."""
        from ..saml.setup import block_problems

        problems, setup = block_problems(block, self.path.parent)
        for suffix, message in problems:
            self.problem(("saml", *suffix), message)
        return setup

    def routes(self, value: object) -> list[dict]:
        from ..exchange.routes import route_problems

        if not isinstance(value, list):
            self.problem(("routes",), "must be a list")
            return []
        seen: set[tuple] = set()
        for index, route in enumerate(value):
            for suffix, message in route_problems(route):
                self.problem(("routes", index, *suffix), message)
            if isinstance(route, dict):
                key = tuple(route.get(k) for k in ("message_type", "sender_type", "recipient_type"))
                if key in seen:
                    self.problem(("routes", index), "this route is listed twice")
                seen.add(key)
        return value

    def organisation(
        self, item: object, path: tuple, seen_clients: dict
    ) -> OrganisationPlan | None:
        if not isinstance(item, dict):
            self.problem(path, "must be a mapping")
            return None
        self.unknown_keys(item, ORGANISATION_KEYS, path)
        before = len(self.problems)
        oin = item.get("oin")
        problem = rules.oin_problem(oin)
        if problem:
            self.problem((*path, "oin"), problem)
        name = item.get("name")
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 200:
            self.problem((*path, "name"), "must be 1-200 characters")
        type_ = item.get("type")
        if type_ not in rules.ORGANISATION_TYPES:
            self.problem((*path, "type"), f"must be one of {', '.join(rules.ORGANISATION_TYPES)}")
        status = item.get("status", "active")
        if status not in rules.STATUSES:
            self.problem((*path, "status"), "must be active or suspended")
        delivery_url = item.get("delivery_url")
        problem = rules.delivery_url_problem(delivery_url, production=self.production)
        if problem:
            self.problem((*path, "delivery_url"), problem)
        polymorphic = item.get("polymorphic", False)
        if polymorphic not in (True, False):
            self.problem((*path, "polymorphic"), "must be true or false")
        clients_value = item.get("clients", [])
        clients: list[ClientPlan] = []
        if not isinstance(clients_value, list):
            self.problem((*path, "clients"), "must be a list")
        else:
            for index, client in enumerate(clients_value):
                plan = self.client(client, (*path, "clients", index), str(type_))
                if plan is None:
                    continue
                if plan.client_id in seen_clients:
                    self.problem((*path, "clients", index, "client_id"), "is listed twice")
                seen_clients[plan.client_id] = path
                clients.append(plan)
        if len(self.problems) > before:
            return None
        return OrganisationPlan(
            oin, name.strip(), type_, status, delivery_url, clients, polymorphic is True
        )

    def client(self, item: object, path: tuple, organisation_type: str) -> ClientPlan | None:
        if not isinstance(item, dict):
            self.problem(path, "must be a mapping")
            return None
        self.unknown_keys(item, CLIENT_KEYS, path)
        before = len(self.problems)
        client_id = item.get("client_id")
        problem = rules.client_id_problem(client_id)
        if problem:
            self.problem((*path, "client_id"), problem)
        scopes = item.get("scopes")
        for index, message in rules.scope_problems(scopes, organisation_type):
            self.problem((*path, "scopes") if index is None else (*path, "scopes", index), message)
        method = item.get("auth")
        credentials = None
        if method == "private_key_jwt":
            credentials = self.jwks_credentials(item, path)
        elif method == "tls_client_auth":
            thumbprint = item.get("tls_client_cert_sha256")
            problem = rules.thumbprint_problem(thumbprint)
            if problem:
                self.problem((*path, "tls_client_cert_sha256"), problem)
            else:
                credentials = ClientCredentials(method, tls_cert_sha256=thumbprint.lower())
        elif method == "client_secret_basic":
            secret = item.get("client_secret")
            if self.production:
                self.problem((*path, "auth"), "client_secret_basic is refused in production")
            elif not isinstance(secret, str) or len(secret) < 16:
                self.problem((*path, "client_secret"), "must be at least 16 characters")
            else:
                credentials = ClientCredentials(method, client_secret=secret)
        else:
            self.problem((*path, "auth"), f"must be one of {', '.join(rules.AUTH_METHODS)}")
        if len(self.problems) > before or credentials is None:
            return None
        return ClientPlan(client_id, list(scopes), credentials)

    def jwks_credentials(self, item: dict, path: tuple) -> ClientCredentials | None:
        if ("jwks" in item) == ("jwks_file" in item):
            self.problem(path, "private_key_jwt needs exactly one of 'jwks' or 'jwks_file'")
            return None
        jwks = item.get("jwks")
        key_path: tuple = (*path, "jwks")
        if "jwks_file" in item:
            key_path = (*path, "jwks_file")
            file_name = item["jwks_file"]
            if not isinstance(file_name, str):
                self.problem(key_path, "must be a file path")
                return None
            try:
                jwks_path = (self.path.parent / file_name).resolve()
                text = jwks_path.read_text()
            except (OSError, ValueError):  # ValueError: a NUL byte in the path
                self.problem(key_path, f"cannot read {file_name!r}")
                return None
            try:
                jwks = json.loads(text)
            except ValueError:
                self.problem(key_path, f"{jwks_path} is not JSON")
                return None
        problem = rules.jwks_problem(jwks)
        if problem:
            self.problem(key_path, problem)
            return None
        return ClientCredentials("private_key_jwt", jwks=jwks)


def read_bootstrap(path: Path, *, production: bool) -> BootstrapFile:
    """Read and validate ``path``; raise :class:`BootstrapError` listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BootstrapError([f"{path}: cannot read the file ({type(exc).__name__})"]) from None
    try:
        document = load_located(text)
    except YamlFileError as exc:
        where = f"{path.name}:{exc.line}" if exc.line else path.name
        raise BootstrapError([f"{where}: {exc}"]) from None
    return _Checker(path, document, production).check()


def _same_credentials(client: Client, credentials: ClientCredentials) -> bool:
    if client.auth_method != credentials.auth_method:
        return False
    if credentials.auth_method == "private_key_jwt":
        return client.jwks == credentials.jwks
    if credentials.auth_method == "tls_client_auth":
        return client.tls_cert_sha256 == credentials.tls_cert_sha256
    return verify_secret(credentials.client_secret or "", client.secret_hash)


def apply_bootstrap(db: Database, plan: BootstrapFile, audit) -> BootstrapReport:
    """Write ``plan`` in one transaction; only records that differ are touched, and every
    change is an ``admin.*`` audit event in the same transaction."""
    report = BootstrapReport()
    with db.write_session() as session:
        # take the audit head's lock first: the whole bootstrap is one serialised writer
        session.execute(text("UPDATE audit_head SET seq = seq WHERE id = 1"))
        for org_plan in plan.organisations:
            organisation = session.scalars(
                select(Organisation).where(Organisation.oin == org_plan.oin)
            ).first()
            label = f"organisation {org_plan.oin}"
            wanted = {
                "name": org_plan.name,
                "type": org_plan.type,
                "status": org_plan.status,
                "delivery_url": org_plan.delivery_url,
                "polymorphic": org_plan.polymorphic,
            }
            if organisation is None:
                organisation = Organisation(oin=org_plan.oin, **wanted)
                session.add(organisation)
                report.created.append(label)
            elif any(getattr(organisation, k) != v for k, v in wanted.items()):
                for key, value in wanted.items():
                    setattr(organisation, key, value)
                organisation.updated_at = utcnow()
                report.updated.append(label)
            else:
                report.unchanged.append(label)
            session.flush()
            for client_plan in org_plan.clients:
                _apply_client(session, organisation, client_plan, report)
        for route in plan.routes:
            _apply_route(session, route, report)
        if plan.saml_setup is not None:
            from ..saml.setup import save_setup

            outcome = save_setup(session, plan.saml_setup)
            getattr(report, "unchanged" if outcome == "unchanged" else outcome).append(
                "saml configuration"
            )
        _audit_changes(session, report, audit)
    return report


def _apply_route(session, route: dict, report: BootstrapReport) -> None:
    from ..exchange.models import RoutePolicyRow
    from ..exchange.routes import route_row

    key = (route["message_type"], route["sender_type"], route["recipient_type"])
    label = "route {}:{}->{}".format(*key)
    row = session.scalars(
        select(RoutePolicyRow).where(
            RoutePolicyRow.message_type == key[0],
            RoutePolicyRow.sender_type == key[1],
            RoutePolicyRow.recipient_type == key[2],
        )
    ).first()
    if route.get("allowed", True) is False:
        if row is None:
            report.unchanged.append(label)
        else:
            session.delete(row)
            report.removed.append(label)
        return
    wanted = route_row(route)
    if row is None:
        session.add(RoutePolicyRow(**wanted, updated_at=utcnow()))
        report.created.append(label)
    elif any(getattr(row, name) != value for name, value in wanted.items()):
        for name, value in wanted.items():
            setattr(row, name, value)
        row.updated_at = utcnow()
        report.updated.append(label)
    else:
        report.unchanged.append(label)


def _audit_changes(session, report: BootstrapReport, log) -> None:
    """One ``admin.<what>`` event per created, updated or removed record."""
    from ..audit.log import AuditEvent

    now = utcnow()
    changes = [("create", label) for label in report.created]
    changes += [("update", label) for label in report.updated]
    changes += [("remove", label) for label in report.removed]
    for verb, label in changes:
        what, _, name = label.partition(" ")
        event = AuditEvent(
            action=f"admin.{what}.{verb}",
            decision="allowed",
            actor_user="gateway bootstrap",
            recipient=name if what == "organisation" else None,
            reason=None,
        )
        event.steps = (name,)
        log.append(session, event, now)


def _apply_client(session, organisation: Organisation, plan: ClientPlan, report) -> None:
    client = session.scalars(select(Client).where(Client.client_id == plan.client_id)).first()
    label = f"client {plan.client_id}"
    if client is None:
        client = Client(client_id=plan.client_id, organisation=organisation, scopes=plan.scopes)
        apply_credentials(client, plan.credentials)
        session.add(client)
        report.created.append(label)
        return
    same = (
        client.organisation_id == organisation.id
        and list(client.scopes) == plan.scopes
        and _same_credentials(client, plan.credentials)
    )
    if same:
        report.unchanged.append(label)
        return
    client.organisation = organisation
    client.scopes = plan.scopes
    if not _same_credentials(client, plan.credentials):
        apply_credentials(client, plan.credentials)
    client.updated_at = utcnow()
    report.updated.append(label)
