"""The retention purge: everything past its term, in an order that keeps the system whole.

1. Payloads past their route's retention (:func:`gateway.exchange.retention.purge_expired`,
   as before: erased, and dead-lettered with an audit event when never acknowledged).
2. The records about a child past their own terms (:mod:`.records`): consents, signals,
   re-identification requests, exchange records' child references, monitoring facts.
3. Last the audit trail: the child reference of each event past its purpose's term is
   crypto-shredded (:mod:`gateway.audit.shredding`), unless the gateway still keeps another
   record about that child. Those records carry the ids and times of the child's events (a
   consent id, an exchange id, the moment a signal was opened), so while one is kept,
   erasing the event's reference would hide nothing from whoever holds the keys; and the
   parent's right of access (AVG article 15) needs the trail as long as the records exist.
4. One ``admin.retention.purge`` event with the counts and the operator's reason, never a
   child (also when nothing was due, so every run is on record). A dry run changes nothing
   and records nothing.

Every step works in batches of short transactions: the purge never holds the audit append
lock longer than one append (step 1's batches and step 4), and a second run finds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Boolean, false, func, not_, or_, select
from sqlalchemy.orm import Session

from pseudonymise import DomainPseudonymiser, PseudonymiseError

from ..audit import shredding
from ..audit.actors import Actor
from ..audit.log import AuditLog, rfc3339
from ..clock import Clock
from ..exchange.models import Message
from ..exchange.retention import purge_expired
from ..storage.database import Database
from .policy import RetentionPolicy
from .records import RecordKind, record_kinds

PURGE_ACTION = "admin.retention.purge"
AUDIT_DOMAIN = "audit"
REASON_LIMIT = 300
"""The operator's part of the event's ``reason`` (the counts come before it)."""


@dataclass
class PurgeReport:
    """What a run erased (or, on a dry run, would erase)."""

    now: datetime
    dry_run: bool
    payloads: int = 0
    records: dict[str, int] = field(default_factory=dict)
    audit_events: int = 0
    audit_held: int = 0
    """Events past their term whose child reference is kept for a record still kept."""

    @property
    def total(self) -> int:
        return self.payloads + sum(self.records.values()) + self.audit_events

    def counts(self) -> str:
        """``payloads=1 consents=2 ... audit_events=9 audit_held=0``: the event's reason."""
        parts = {"payloads": self.payloads, **self.records}
        parts |= {"audit_events": self.audit_events, "audit_held": self.audit_held}
        return " ".join(f"{name}={count}" for name, count in parts.items())

    def as_dict(self) -> dict:
        return {
            "now": rfc3339(self.now),
            "dry_run": self.dry_run,
            "payloads": self.payloads,
            "records": dict(self.records),
            "audit_events": self.audit_events,
            "audit_held": self.audit_held,
        }


def _kept(due) -> object:
    """Not due, with SQL's unknown (a null in the comparison) read as not due."""
    return not_(func.coalesce(due, false(), type_=Boolean))


@dataclass(eq=False)
class RetentionService:
    """Applies the retention policy; built once in :mod:`gateway.composition`."""

    db: Database
    pseudonymiser: DomainPseudonymiser
    audit: AuditLog
    clock: Clock
    policy: RetentionPolicy
    timezone: str = "Europe/Amsterdam"
    batch: int = 1000

    def purge(
        self, actor: Actor, reason: str, now: datetime | None = None, dry_run: bool = False
    ) -> PurgeReport:
        """Erase everything past its term at ``now`` (default: the clock's time)."""
        reason = " ".join(reason.split())
        if len(reason) > REASON_LIMIT:
            raise ValueError(f"the reason is longer than {REASON_LIMIT} characters")
        now = now or self.clock()
        report = PurgeReport(now, dry_run)
        kinds = record_kinds(self.policy, now, self.timezone)
        report.payloads = self._payloads(now, dry_run)
        for kind in kinds:
            report.records[kind.name] = self._erase(kind, dry_run)
        shred = shredding.shred_due(
            self.db,
            now,
            self.policy.audit_term,
            self.policy.shortest_audit_term,
            lambda session, refs: self._held(session, kinds, refs),
            batch=self.batch,
            dry_run=dry_run,
        )
        report.audit_events, report.audit_held = shred.events, shred.held
        if not dry_run:
            self._record(actor, report, reason)
        return report

    # the steps -----------------------------------------------------------------------------
    def _payloads(self, now: datetime, dry_run: bool) -> int:
        if not dry_run:
            return purge_expired(self.db, self.audit, now, self.batch)
        with self.db.session() as session:
            return session.scalar(
                select(func.count(Message.seq)).where(
                    Message.retain_until <= now,
                    or_(Message.ciphertext.is_not(None), Message.pep_delivered.is_not(None)),
                )
            )

    def _erase(self, kind: RecordKind, dry_run: bool) -> int:
        """Erase the due rows of ``kind`` a batch per transaction (a dry run counts them)."""
        if dry_run:
            with self.db.session() as session:
                return session.scalar(select(func.count(kind.key)).where(kind.due))
        total = 0
        while True:
            with self.db.write_session() as session:
                ids = session.scalars(select(kind.key).where(kind.due).limit(self.batch)).all()
                if not ids:
                    return total
                kind.erase(session, ids)
                total += len(ids)

    def _held(self, session: Session, kinds: list[RecordKind], refs: set[str]) -> set[str]:
        """Of the children ``refs`` (audit pseudonyms), those with a record still kept: one
        query per kind for the whole batch, over the child's pseudonym in that kind's domain
        under every key version held (records made before a rotation count too)."""
        owners: dict[str, dict[str, str]] = {}
        for ref in refs:
            try:
                child = self.pseudonymiser.reveal_child(ref, AUDIT_DOMAIN)
            except (PseudonymiseError, ValueError):
                continue  # a retired key version: nothing kept can be tied to it either
            for kind in kinds:
                if kind.child is None:
                    continue
                mine = owners.setdefault(kind.domain, {})
                for pseudonym in self.pseudonymiser.pseudonymise_child_versions(
                    child, kind.domain
                ):
                    mine[pseudonym] = ref
        held: set[str] = set()
        for kind in kinds:
            mine = owners.get(kind.domain, {})
            if kind.child is None or not mine:
                continue
            found = session.scalars(
                select(kind.child).where(kind.child.in_(list(mine)), _kept(kind.due)).distinct()
            ).all()
            held |= {mine[pseudonym] for pseudonym in found}
        return held

    def _record(self, actor: Actor, report: PurgeReport, reason: str) -> None:
        """The run's own event: how many of each, as of when, and why; never a child."""
        text = f"{report.counts()} as of {rfc3339(report.now)}"
        if reason:
            text = f"{text}; {reason}"
        with self.db.write_session() as session:
            self.audit.append(session, actor.event(PURGE_ACTION, reason=text), self.clock())
