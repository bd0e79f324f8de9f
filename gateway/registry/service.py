"""Organisation registry service: the one place that reads and changes organisations and clients.

The CLI, the bootstrap file, the admin web pages and the OAuth server all go through it, so a
rule (operator-only scopes, https delivery URLs) holds whichever door a change comes through.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..storage.database import Database
from ..storage.models import Client, Organisation, utcnow
from . import rules
from .errors import DuplicateRegistration, InvalidRegistration, UnknownClient, UnknownOrganisation
from .secrets import hash_secret


@dataclass(frozen=True)
class ClientCredentials:
    """How a client proves who it is: exactly one of the three is set, per ``auth_method``."""

    auth_method: str
    jwks: dict | None = None
    tls_cert_sha256: str | None = None
    client_secret: str | None = None


def check_organisation(oin: str, name: str, type_: str, status: str) -> None:
    problem = rules.oin_problem(oin)
    if problem:
        raise InvalidRegistration(f"oin {problem}")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 200:
        raise InvalidRegistration("name must be 1-200 characters")
    if type_ not in rules.ORGANISATION_TYPES:
        raise InvalidRegistration(f"type must be one of {', '.join(rules.ORGANISATION_TYPES)}")
    if status not in rules.STATUSES:
        raise InvalidRegistration("status must be active or suspended")


def check_credentials(credentials: ClientCredentials, *, production: bool) -> None:
    method = credentials.auth_method
    if method not in rules.AUTH_METHODS:
        raise InvalidRegistration(f"auth must be one of {', '.join(rules.AUTH_METHODS)}")
    if method == "private_key_jwt":
        problem = rules.jwks_problem(credentials.jwks)
        if problem:
            raise InvalidRegistration(f"jwks {problem}")
    elif method == "tls_client_auth":
        problem = rules.thumbprint_problem(credentials.tls_cert_sha256)
        if problem:
            raise InvalidRegistration(f"tls_client_cert_sha256 {problem}")
    else:
        if production:
            raise InvalidRegistration("client_secret_basic is refused in production")
        if not credentials.client_secret or len(credentials.client_secret) < 16:
            raise InvalidRegistration("client_secret must be at least 16 characters")


class OrganisationRegistry:
    def __init__(self, db: Database, *, production: bool) -> None:
        self.db = db
        self.production = production

    # reading -------------------------------------------------------------------------------
    def organisations(self) -> list[Organisation]:
        with self.db.session() as session:
            query = select(Organisation).options(selectinload(Organisation.clients))
            return list(session.scalars(query.order_by(Organisation.oin)))

    def organisation(self, oin: str) -> Organisation | None:
        with self.db.session() as session:
            return self.find_organisation(session, oin)

    @staticmethod
    def find_organisation(session: Session, oin: str) -> Organisation | None:
        query = select(Organisation).where(Organisation.oin == oin)
        return session.scalars(query.options(selectinload(Organisation.clients))).first()

    def client(self, client_id: str) -> Client | None:
        with self.db.session() as session:
            query = (
                select(Client)
                .where(Client.client_id == client_id)
                .options(selectinload(Client.organisation))
            )
            return session.scalars(query).first()

    def clients(self, oin: str | None = None) -> list[Client]:
        with self.db.session() as session:
            query = select(Client).options(selectinload(Client.organisation))
            if oin:
                query = query.join(Organisation).where(Organisation.oin == oin)
            return list(session.scalars(query.order_by(Client.client_id)))

    def uses_client_secrets(self) -> bool:
        with self.db.session() as session:
            query = select(Client.id).where(Client.auth_method == "client_secret_basic")
            return session.scalars(query.limit(1)).first() is not None

    # changing ------------------------------------------------------------------------------
    def add_organisation(
        self,
        oin: str,
        name: str,
        type_: str,
        *,
        status: str = "active",
        delivery_url: str | None = None,
        polymorphic: bool = False,
        brin: str | None = None,
        kvk: str | None = None,
    ) -> Organisation:
        check_organisation(oin, name, type_, status)
        problem = rules.delivery_url_problem(delivery_url, production=self.production)
        if problem:
            raise InvalidRegistration(f"delivery_url {problem}")
        for field_name, problem in (
            ("brin", rules.brin_problem(brin)),
            ("kvk", rules.kvk_problem(kvk)),
        ):
            if problem:
                raise InvalidRegistration(f"{field_name} {problem}")
        with self.db.session() as session:
            if self.find_organisation(session, oin):
                raise DuplicateRegistration(f"organisation {oin} already exists")
            organisation = Organisation(
                oin=oin,
                name=name.strip(),
                type=type_,
                status=status,
                delivery_url=delivery_url,
                polymorphic=polymorphic,
                brin=brin,
                kvk=kvk,
            )
            session.add(organisation)
        return organisation

    def set_status(self, oin: str, status: str) -> bool:
        """Suspend or activate; True when the status changed. Takes effect on the next request."""
        if status not in rules.STATUSES:
            raise InvalidRegistration("status must be active or suspended")
        with self.db.session() as session:
            organisation = self.find_organisation(session, oin)
            if organisation is None:
                raise UnknownOrganisation(f"no organisation with OIN {oin}")
            if organisation.status == status:
                return False
            organisation.status = status
            organisation.updated_at = utcnow()
            return True

    def add_client(
        self, oin: str, client_id: str, credentials: ClientCredentials, scopes: list[str]
    ) -> Client:
        problem = rules.client_id_problem(client_id)
        if problem:
            raise InvalidRegistration(f"client_id {problem}")
        check_credentials(credentials, production=self.production)
        with self.db.session() as session:
            organisation = self.find_organisation(session, oin)
            if organisation is None:
                raise UnknownOrganisation(f"no organisation with OIN {oin}")
            scope_errors = rules.scope_problems(scopes, organisation.type)
            if scope_errors:
                raise InvalidRegistration("scopes: " + "; ".join(m for _, m in scope_errors))
            existing = session.scalars(select(Client).where(Client.client_id == client_id))
            if existing.first():
                raise DuplicateRegistration(f"client {client_id} already exists")
            client = Client(client_id=client_id, organisation=organisation, scopes=list(scopes))
            apply_credentials(client, credentials)
            session.add(client)
        return client

    def rotate_client_credentials(self, client_id: str, credentials: ClientCredentials) -> None:
        """Replace a client's key material (new JWKS, certificate or secret) at once."""
        check_credentials(credentials, production=self.production)
        with self.db.session() as session:
            client = session.scalars(select(Client).where(Client.client_id == client_id)).first()
            if client is None:
                raise UnknownClient(f"no client {client_id}")
            apply_credentials(client, credentials)
            client.updated_at = utcnow()


def apply_credentials(client: Client, credentials: ClientCredentials) -> None:
    client.auth_method = credentials.auth_method
    client.jwks = credentials.jwks if credentials.auth_method == "private_key_jwt" else None
    client.tls_cert_sha256 = (
        credentials.tls_cert_sha256.lower()
        if credentials.auth_method == "tls_client_auth" and credentials.tls_cert_sha256
        else None
    )
    client.secret_hash = (
        hash_secret(credentials.client_secret)
        if credentials.auth_method == "client_secret_basic" and credentials.client_secret
        else None
    )
