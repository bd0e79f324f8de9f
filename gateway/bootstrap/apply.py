"""Writing a checked bootstrap plan: one transaction, only what differs, every change audited.

Organisations and their clients are the registry's records; route policies and the SAML set-up
are written by :mod:`.routes` and :mod:`.saml`, regions and the areas organisations serve by
:mod:`.regions`. Each created, updated or removed record is an
``admin.*`` event in the audit log, in the same transaction.
"""

from __future__ import annotations

from sqlalchemy import select, text

from ..audit.log import AuditEvent
from ..registry.secrets import verify_secret
from ..registry.service import ClientCredentials, apply_credentials
from ..storage.database import Database
from ..storage.models import Client, Organisation, utcnow
from .plan import BootstrapFile, BootstrapReport, ClientPlan, OrganisationPlan, sync_row
from .regions import apply_regions, apply_serves, check_against_registry
from .routes import apply_route
from .saml import apply_saml


def apply_bootstrap(db: Database, plan: BootstrapFile, audit) -> BootstrapReport:
    """Write ``plan`` in one transaction; only records that differ are touched, and every
    change is an ``admin.*`` audit event in the same transaction."""
    report = BootstrapReport()
    with db.write_session() as session:
        # take the audit head's lock first: the whole bootstrap is one serialised writer
        session.execute(text("UPDATE audit_head SET seq = seq WHERE id = 1"))
        organisations = []
        for org_plan in plan.organisations:
            organisation = _apply_organisation(session, org_plan, report)
            organisations.append((organisation, org_plan))
            for client_plan in org_plan.clients:
                _apply_client(session, organisation, client_plan, report)
        # regions name organisations (their holders) and areas name regions: in that order,
        # after the checks that need the registry (raising rolls everything back)
        check_against_registry(session, plan)
        apply_regions(session, plan.regions, report)
        for organisation, org_plan in organisations:
            if org_plan.serves is not None:
                apply_serves(session, organisation, org_plan.serves, report)
        for route in plan.routes:
            apply_route(session, route, report)
        if plan.saml_setup is not None:
            apply_saml(session, plan.saml_setup, report)
        _audit_changes(session, report, audit)
    return report


def _apply_organisation(session, plan: OrganisationPlan, report: BootstrapReport) -> Organisation:
    organisation = session.scalars(select(Organisation).where(Organisation.oin == plan.oin)).first()
    wanted = {
        "name": plan.name,
        "type": plan.type,
        "status": plan.status,
        "delivery_url": plan.delivery_url,
        "polymorphic": plan.polymorphic,
        "brin": plan.brin,
        "kvk": plan.kvk,
    }
    organisation = sync_row(
        session,
        organisation,
        wanted,
        f"organisation {plan.oin}",
        report,
        lambda values: Organisation(oin=plan.oin, **values),
    )
    session.flush()
    return organisation


def _same_credentials(client: Client, credentials: ClientCredentials) -> bool:
    if client.auth_method != credentials.auth_method:
        return False
    if credentials.auth_method == "private_key_jwt":
        return client.jwks == credentials.jwks
    if credentials.auth_method == "tls_client_auth":
        return client.tls_cert_sha256 == credentials.tls_cert_sha256
    return verify_secret(credentials.client_secret or "", client.secret_hash)


def _apply_client(
    session, organisation: Organisation, plan: ClientPlan, report: BootstrapReport
) -> None:
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


def _audit_changes(session, report: BootstrapReport, log) -> None:
    """One ``admin.<what>`` event per created, updated or removed record."""
    now = utcnow()
    changes = [("create", label) for label in report.created]
    changes += [("update", label) for label in report.updated]
    changes += [("remove", label) for label in report.removed]
    for verb, label in changes:
        what, _, name = label.partition(" ")
        if what == "region" and verb == "remove":
            verb = "delete"  # the audit vocabulary's name (schemas/vocabulary.py)
        event = AuditEvent(
            action=f"admin.{what}.{verb}",
            decision="allowed",
            actor_user="gateway bootstrap",
            recipient=name if what == "organisation" else None,
            reason=None,
        )
        event.steps = (name,)
        log.append(session, event, now)
