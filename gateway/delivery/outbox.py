"""The outbox: claiming due messages for push delivery and recording what became of them.

A row is due when it is ``accepted``, its recipient is active and has a ``delivery_url``, and
``next_attempt_at`` is empty or past. Claiming sets ``next_attempt_at`` to the end of a lease
and a fresh ``lease_token`` in one short transaction; the HTTP call then runs outside any
transaction. A worker that dies (``kill -9``) simply lets its lease run out, after which the
row is due again: nothing is lost, and the recipient may see the message twice (it
deduplicates on ``id``).

- PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` then ``UPDATE`` in one transaction, so
  concurrent workers claim disjoint rows without waiting on each other.
- SQLite: one ``UPDATE ... WHERE seq IN (SELECT ... LIMIT n) RETURNING`` statement. SQLite has
  one writer at a time, so the statement is the whole claim; a reading transaction that later
  upgrades to a write could fail on a snapshot conflict, a single write cannot.

Results are guarded: a success turns a still-``accepted`` row into ``delivered`` (whoever holds
the lease: the recipient has it now), a failure only counts while the worker still holds its
lease, so a worker whose lease ran out cannot overwrite a newer attempt's outcome.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from .. import telemetry
from ..audit.log import AuditLog
from ..exchange.models import Message
from ..storage.database import Database
from ..storage.models import Organisation
from . import events

MESSAGES = Message.__table__
_CLAIMED = (
    Message.seq,
    Message.id,
    Message.message_type,
    Message.sender_org_id,
    Message.recipient_org_id,
    Message.purpose,
    Message.legal_basis,
    Message.consent_id,
    Message.subject_ref,
    Message.created_at,
    Message.fsc_transaction_id,
    Message.key_version,
    Message.ciphertext,
    Message.attempts,
)


@dataclass(frozen=True)
class Claim:
    """A message this worker holds the lease on, with what it needs to push it."""

    seq: int
    id: str
    message_type: str
    purpose: str
    legal_basis: dict
    consent_id: str | None
    subject_ref: str
    created_at: datetime
    fsc_transaction_id: str
    key_version: int
    ciphertext: bytes | None
    attempts: int
    lease_token: str
    sender: dict
    recipient_oin: str
    delivery_url: str


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed row: ``delivered``, ``failed`` (due again at
    ``retry_at``), ``dead_lettered`` or ``released`` (untried)."""

    claim: Claim
    result: str
    error: str | None = None
    retry_at: datetime | None = None
    trace: object | None = None
    """The push's trace (:class:`gateway.telemetry.Trace`): its event is written in it."""


def _push_recipients(*, active_only: bool = True):
    """Organisations that receive by push; a suspended one gets nothing until reactivated."""
    query = select(Organisation.id).where(Organisation.delivery_url.is_not(None))
    return query.where(Organisation.status == "active") if active_only else query


class Outbox:
    """Claims and settles outbox rows in one database; see the module docstring."""

    def __init__(self, db: Database, audit: AuditLog) -> None:
        self.db = db
        self.audit = audit

    # claiming ----------------------------------------------------------------------------
    def claim(self, limit: int, now: datetime, lease: timedelta) -> list[Claim]:
        """Lease up to ``limit`` due rows, oldest first, until ``now + lease``."""
        token = secrets.token_hex(16)
        due = select(Message.seq).where(
            Message.status == "accepted",
            Message.recipient_org_id.in_(_push_recipients()),
            or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now),
        )
        due = due.order_by(Message.seq).limit(limit)
        lease_values = {"next_attempt_at": now + lease, "lease_token": token}
        if self.db.is_sqlite:
            with self.db.write_session() as session:
                rows = session.execute(
                    update(MESSAGES)
                    .where(MESSAGES.c.seq.in_(due.scalar_subquery()))
                    .values(**lease_values)
                    .returning(*_CLAIMED)
                ).all()
                return self._claims(session, rows, token)
        with self.db.session() as session:
            seqs = list(session.scalars(due.with_for_update(skip_locked=True)))
            if not seqs:
                return []
            rows = session.execute(
                update(MESSAGES)
                .where(MESSAGES.c.seq.in_(seqs))
                .values(**lease_values)
                .returning(*_CLAIMED)
            ).all()
            return self._claims(session, rows, token)

    @staticmethod
    def _claims(session: Session, rows, token: str) -> list[Claim]:
        if not rows:
            return []
        ids = {r.sender_org_id for r in rows} | {r.recipient_org_id for r in rows}
        orgs = {
            org.id: org
            for org in session.scalars(select(Organisation).where(Organisation.id.in_(ids)))
        }
        claims = []
        for row in sorted(rows, key=lambda r: r.seq):
            sender, recipient = orgs[row.sender_org_id], orgs[row.recipient_org_id]
            claims.append(
                Claim(
                    seq=row.seq,
                    id=row.id,
                    message_type=row.message_type,
                    purpose=row.purpose,
                    legal_basis=row.legal_basis,
                    consent_id=row.consent_id,
                    subject_ref=row.subject_ref,
                    created_at=row.created_at,
                    fsc_transaction_id=row.fsc_transaction_id,
                    key_version=row.key_version,
                    ciphertext=row.ciphertext,
                    attempts=row.attempts,
                    lease_token=token,
                    sender={"oin": sender.oin, "name": sender.name, "type": sender.type},
                    recipient_oin=recipient.oin,
                    delivery_url=recipient.delivery_url,
                )
            )
        return claims

    # settling ----------------------------------------------------------------------------
    def settle(self, outcomes: list[Outcome], now: datetime) -> list[bool]:
        """Record the outcomes of a batch in one transaction; per outcome, whether it changed
        its row. One commit per batch instead of one per message: on PostgreSQL the commit
        (its WAL flush) is the largest cost of a push. Should this transaction fail, the
        batch's leases run out and its rows are pushed again (at least once).

        - ``delivered``: a still-``accepted`` row becomes ``delivered``, whoever holds the
          lease, and the push is audited as ``exchange.deliver``. Every successful push is
          audited, also one that crossed a pull or followed a crash: each is a disclosure.
        - ``failed``: attempts + 1, due again at ``retry_at``; only while the lease is held.
        - ``dead_lettered``: attempts + 1, audited ``exchange.dead_letter``; only while held.
        - ``released``: untried (graceful shutdown), due again at once; only while held.
        """
        audited = any(o.result in ("delivered", "dead_lettered") for o in outcomes)
        changed, operator = [], None
        with self.db.write_session() as session:
            if audited:
                session.execute(AuditLog.LOCK_HEAD)
                operator = events.operator_oin(session)
            for outcome in outcomes:
                done = session.execute(_settling(outcome, now)).rowcount == 1
                changed.append(done)
                if outcome.result == "delivered" or (done and outcome.result == "dead_lettered"):
                    action = events.DELIVER if outcome.result == "delivered" else events.DEAD_LETTER
                    claim = outcome.claim
                    event = events.message_event(
                        action, claim, claim.sender["oin"], claim.recipient_oin, operator
                    )
                    if outcome.trace is not None:
                        with telemetry.using(outcome.trace):
                            self.audit.append(session, event, now)
                    else:
                        self.audit.append(session, event, now)
        return changed

    def delivered(self, claim: Claim, now: datetime) -> bool:
        return self.settle([Outcome(claim, "delivered")], now)[0]

    def failed(self, claim: Claim, now: datetime, error: str, retry_at: datetime | None) -> bool:
        """A failed attempt, due again at ``retry_at``; dead-lettered when that is None."""
        result = "failed" if retry_at is not None else "dead_lettered"
        return self.settle([Outcome(claim, result, error, retry_at)], now)[0]

    def release(self, claims: list[Claim], now: datetime) -> None:
        self.settle([Outcome(claim, "released") for claim in claims], now)

    # watching ----------------------------------------------------------------------------
    def pending(self) -> int:
        """Messages waiting for push delivery (due or not, also those for suspended
        recipients), for ``gateway_outbox_pending``."""
        with self.db.session() as session:
            return session.scalar(
                select(func.count())
                .select_from(Message)
                .where(
                    Message.status == "accepted",
                    Message.recipient_org_id.in_(_push_recipients(active_only=False)),
                )
            )


def _settling(outcome: Outcome, now: datetime):
    claim = outcome.claim
    if outcome.result == "delivered":
        return (
            update(MESSAGES)
            .where(MESSAGES.c.seq == claim.seq, MESSAGES.c.status == "accepted")
            .values(
                status="delivered",
                delivered_at=now,
                attempts=claim.attempts + 1,
                next_attempt_at=None,
                lease_token=None,
                last_error=None,
            )
        )
    if outcome.result == "released":
        values = {"next_attempt_at": now}
    else:
        values = {"attempts": claim.attempts + 1, "last_error": (outcome.error or "error")[:200]}
        if outcome.result == "failed":
            values["next_attempt_at"] = outcome.retry_at
        else:
            values.update(status="dead_lettered", dead_lettered_at=now, next_attempt_at=None)
    return update(MESSAGES).where(_held(claim)).values(lease_token=None, **values)


def _held(claim: Claim):
    return (
        (MESSAGES.c.seq == claim.seq)
        & (MESSAGES.c.status == "accepted")
        & (MESSAGES.c.lease_token == claim.lease_token)
    )
