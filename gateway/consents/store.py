"""``SqlConsentStore``: the registry over the shared database (SQLite or PostgreSQL).

Every change runs in one transaction that starts with its audit event: ``AuditLog.append``
updates the audit head row first, which serialises writers (a row lock on PostgreSQL, the
write lock on SQLite). So two recordings for the same child cannot both miss each other
when one supersedes the other, and a change never exists without its audit record.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from consent.records import (
    Actor,
    Consent,
    PrivateDetails,
    RegistryEvent,
    StatusEntry,
    terms_of,
)
from pseudonymise import DomainPseudonymiser

from ..audit.log import AuditEvent, AuditLog
from ..clock import aware
from ..sealing import Sealer
from ..storage.database import Database
from ..storage.models import Organisation
from .models import ConsentRow, ConsentStatusRow

CONSENTS = ConsentRow.__table__


def _consent(row) -> Consent:
    """A record from a row of :data:`CONSENTS` joined with its recorder's OIN and type."""
    return Consent(
        id=row.id,
        subject_ref=row.subject_ref,
        **terms_of(row),
        recorded_by=Actor(
            row.recorder_oin,
            row.recorder_type,
            row.recorded_by_org_id,
            row.recorded_by_client_id,
            row.recorded_by_user,
        ),
        created_at=aware(row.created_at),
        receipt=row.receipt,
        withdrawn_at=aware(row.withdrawn_at),
        superseded_at=aware(row.superseded_at),
        superseded_by=row.superseded_by,
        seq=row.seq,
    )


def _actor_columns(prefix: str, actor: Actor) -> dict:
    """Who acted, as a row stores it: ``<prefix>org_id``, ``<prefix>client_id`` and
    ``<prefix>user`` (the OIN and type follow from the organisation)."""
    return {
        prefix + "org_id": actor.org_id,
        prefix + "client_id": actor.client_id,
        prefix + "user": actor.user,
    }


def _query():
    """Columns, not ORM entities: the consent check runs on every consent-based exchange,
    and plain rows cost a fraction of mapped objects."""
    columns = [c for c in CONSENTS.c if c.key not in ("sealed", "key_version")]
    return select(
        *columns,
        Organisation.oin.label("recorder_oin"),
        Organisation.type.label("recorder_type"),
    ).join(Organisation, Organisation.id == CONSENTS.c.recorded_by_org_id)


# Built once with bound parameters: building a statement costs more than running it.
BY_SUBJECT = (
    _query()
    .where(CONSENTS.c.subject_ref.in_(bindparam("refs", expanding=True)))
    .order_by(CONSENTS.c.seq)
)
BY_SUBJECT_AND_PURPOSE = (
    _query()
    .where(
        CONSENTS.c.subject_ref.in_(bindparam("refs", expanding=True)),
        CONSENTS.c.purpose == bindparam("purpose"),
    )
    .order_by(CONSENTS.c.seq)
)
BY_ID = _query().where(CONSENTS.c.id == bindparam("consent_id"))


class ConsentReads:
    """Reads within one session (or connection)."""

    def __init__(self, session: Session | Connection) -> None:
        self.session = session

    def for_subject(self, subject_refs: Sequence[str], purpose: str | None = None) -> list[Consent]:
        if purpose is None:
            rows = self.session.execute(BY_SUBJECT, {"refs": list(subject_refs)})
        else:
            rows = self.session.execute(
                BY_SUBJECT_AND_PURPOSE, {"refs": list(subject_refs), "purpose": purpose}
            )
        return [_consent(row) for row in rows]

    def get(self, consent_id: str) -> Consent | None:
        found = self.session.execute(BY_ID, {"consent_id": consent_id}).first()
        return _consent(found) if found else None


class SqlConsentChanges(ConsentReads):
    """:class:`consent.interfaces.ConsentTransaction` over one open session."""

    def __init__(self, session: Session, sealer: Sealer) -> None:
        super().__init__(session)
        self.sealer = sealer

    def add(self, consent: Consent, details: PrivateDetails, entry: StatusEntry) -> None:
        version, sealed = self.sealer.seal(
            consent.id,
            {
                "date_of_birth": details.date_of_birth.isoformat(),
                "evidence_reference": details.evidence_reference,
            },
        )
        self.session.add(
            ConsentRow(
                id=consent.id,
                subject_ref=consent.subject_ref,
                **terms_of(consent, list),
                **_actor_columns("recorded_by_", consent.recorded_by),
                created_at=consent.created_at,
                key_version=version,
                sealed=sealed,
                receipt=consent.receipt,
            )
        )
        self.session.flush()
        self._history(entry)

    def withdraw(self, entry: StatusEntry) -> Consent:
        row = self._row(entry.consent_id)
        if row.withdrawn_at is None:
            row.withdrawn_at = entry.at
            self._history(entry)
        self.session.flush()
        return self.get(entry.consent_id)

    def supersede(self, entry: StatusEntry) -> None:
        row = self._row(entry.consent_id)
        if row.superseded_at is None:
            row.superseded_at = entry.at
            row.superseded_by = entry.related_consent_id
            self._history(entry)

    def _row(self, consent_id: str) -> ConsentRow:
        return self.session.scalars(select(ConsentRow).where(ConsentRow.id == consent_id)).one()

    def _history(self, entry: StatusEntry) -> None:
        version, sealed = (None, None)
        if entry.reason is not None:
            version, sealed = self.sealer.seal(
                f"{entry.consent_id}/{entry.status}", {"reason": entry.reason}
            )
        self.session.add(
            ConsentStatusRow(
                consent_id=entry.consent_id,
                status=entry.status,
                at=entry.at,
                **_actor_columns("actor_", entry.actor),
                role=entry.role,
                related_consent_id=entry.related_consent_id,
                key_version=version,
                sealed_reason=sealed,
            )
        )


class SqlConsentStore:
    """:class:`consent.interfaces.ConsentStore` on the gateway database with its audit log."""

    def __init__(
        self,
        db: Database,
        sealer: Sealer,
        audit: AuditLog,
        pseudonymiser: DomainPseudonymiser,
    ) -> None:
        self.db = db
        self.sealer = sealer
        self.audit = audit
        self.pseudonymiser = pseudonymiser

    def for_subject(self, subject_refs: Sequence[str], purpose: str | None = None) -> list[Consent]:
        with self.db.read() as connection:
            return ConsentReads(connection).for_subject(subject_refs, purpose)

    def get(self, consent_id: str) -> Consent | None:
        with self.db.read() as connection:
            return ConsentReads(connection).get(consent_id)

    @contextmanager
    def transaction(self, event: RegistryEvent) -> Iterator[SqlConsentChanges]:
        with self.db.session() as session:
            self.audit.append(session, self.audit_event(event), event.at)
            yield SqlConsentChanges(session, self.sealer)

    def audit_event(self, event: RegistryEvent) -> AuditEvent:
        """The audit record of a change; the child as its audit-domain pseudonym."""
        return AuditEvent(
            action=event.action,
            decision="allowed",
            actor_org=event.actor.org_oin,
            actor_client_id=event.actor.client_id,
            actor_user=event.actor.user,
            purpose=event.purpose,
            consent_id=event.consent_id,
            subject_ref=self.pseudonymiser.translate(event.subject_ref, "consent", "audit"),
            fsc_transaction_id=event.transaction_id,
            clear_to=event.clear_to,
        )

    def private_details(self, consent_id: str) -> PrivateDetails | None:
        """The sealed details, for the registry's own use (never an API answer)."""
        with self.db.session() as session:
            row = session.scalars(select(ConsentRow).where(ConsentRow.id == consent_id)).first()
            if row is None:
                return None
            opened = self.sealer.open(row.id, row.key_version, row.sealed)
        return PrivateDetails(
            date.fromisoformat(opened["date_of_birth"]), opened["evidence_reference"]
        )
