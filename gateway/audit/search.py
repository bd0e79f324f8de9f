"""Selecting audit events: visibility, filters, pages and streams.

Visibility (API.md sections 8 and 13): the operator organisation sees every event; any other
organisation the events where it is the actor or the sender, and those where it is the
recipient of something that happened (never a refused send addressed to it: rule 2, a
would-be recipient must not learn that someone tried to tell it about a child). The SQL
filter uses the index columns; each event is then checked once more against its canonical JSON
(what the API returns), so that an index column that disagrees with the hashed event can never
show an organisation someone else's event.

Events are answered as hashed plus the view members (docs/audit-design.md): ``hash``;
``subject_ref``, the child's global audit pseudonym for the operator's readers and null for
everyone else; and for the operator's readers ``subject_opening``, which opens the hashed
``subject_commitment``. Anyone recomputes ``hash`` by dropping those three members, JCS,
SHA-256.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from ..storage.database import Database
from .actors import Actor
from .models import AuditEventRow
from .params import CURSORS, EventFilter

log = logging.getLogger(__name__)


VIEW_MEMBERS = ("hash", "subject_ref", "subject_opening")
"""Members an answer adds to the hashed event; drop them to recompute ``hash``."""


@dataclass(frozen=True)
class StoredEvent:
    """One row as read for an answer: the hashed JSON and the operator-only index values."""

    seq: int
    canonical: str
    hash: str
    subject_ref: str | None = None
    subject_opening: str | None = None

    def view(self, operator: bool) -> str:
        """The event as ``operator`` (or a partner) receives it: one line of JSON."""
        if operator:
            extra = (
                f',"subject_opening":{json.dumps(self.subject_opening)}'
                f',"subject_ref":{json.dumps(self.subject_ref)}'
            )
        else:
            extra = ',"subject_ref":null'
        return f'{self.canonical[:-1]},"hash":"{self.hash}"{extra}}}'

    def view_dict(self, operator: bool) -> dict:
        event = json.loads(self.canonical)
        event["hash"] = self.hash
        event["subject_ref"] = self.subject_ref if operator else None
        if operator:
            event["subject_opening"] = self.subject_opening
        return event


DISCLOSE = "case.disclose"
"""A pact disclosure (issue 20): "the recipient learned that the sender is involved with this
child". It is read by its learner (the recipient), by whoever acted, and by the operator, but
not by the organisation learned of: otherwise that one would learn of the learner in turn,
which the process did not sanction (an escalation tells its holder of the involved school;
the school is told nothing). Where a process discloses both ways, each side reads its own."""


def concerns(event: dict, oin: str) -> bool:
    actor = event.get("actor") or {}
    if oin == actor.get("org"):
        return True
    if oin == event.get("sender") and event.get("action") != DISCLOSE:
        return True
    return event.get("recipient") == oin and not _refused_send(event)


def _refused_send(event: dict) -> bool:
    return event.get("action") == "exchange.send" and event.get("decision") == "denied"


def visible(actor: Actor, event: dict) -> bool:
    if actor.is_operator:
        return True
    if actor.org_oin is not None and concerns(event, actor.org_oin):
        return True
    log.error("audit index columns disagree with event %s; not shown", event.get("seq"))
    return False


def partner_visibility(oin: str):
    """The SQL side of :func:`concerns` for organisation ``oin``."""
    return or_(
        AuditEventRow.actor_org == oin,
        and_(AuditEventRow.sender == oin, AuditEventRow.action != DISCLOSE),
        and_(
            AuditEventRow.recipient == oin,
            or_(AuditEventRow.action != "exchange.send", AuditEventRow.decision != "denied"),
        ),
    )


_COLUMNS = (
    AuditEventRow.seq,
    AuditEventRow.canonical,
    AuditEventRow.hash,
    AuditEventRow.subject_ref,
    AuditEventRow.subject_opening,
)


def _conditions(actor: Actor, wanted: EventFilter) -> list:
    """The WHERE clauses of what ``actor`` may see and ``wanted`` selects (index columns)."""
    conditions = []
    if not actor.is_operator:
        conditions.append(partner_visibility(actor.org_oin or ""))
    if wanted.org is not None:
        conditions.append(
            or_(
                AuditEventRow.actor_org == wanted.org,
                AuditEventRow.sender == wanted.org,
                AuditEventRow.recipient == wanted.org,
            )
        )
    if wanted.start is not None:
        conditions.append(AuditEventRow.at >= wanted.start)
    if wanted.end is not None:
        conditions.append(AuditEventRow.at < wanted.end)
    if wanted.action is not None:
        conditions.append(AuditEventRow.action == wanted.action)
    if wanted.message_type is not None:
        conditions.append(AuditEventRow.message_type == wanted.message_type)
    if wanted.decision is not None:
        conditions.append(AuditEventRow.decision == wanted.decision)
    if wanted.exchange_id is not None:
        conditions.append(AuditEventRow.exchange_id == wanted.exchange_id)
    if wanted.subject_refs is not None:
        conditions.append(AuditEventRow.subject_ref.in_(wanted.subject_refs))
    if wanted.clear_to is not None:
        conditions.append(AuditEventRow.subject_clear_to.contains(f",{wanted.clear_to},"))
    if wanted.pseudonym_to is not None:
        conditions.append(AuditEventRow.subject_pseudonym_to.contains(f",{wanted.pseudonym_to},"))
    if wanted.case_id is not None:
        conditions.append(AuditEventRow.case_id == wanted.case_id)
    return conditions


def _query(actor: Actor, wanted: EventFilter, after: int) -> Select:
    query = select(*_COLUMNS).where(AuditEventRow.seq > after, *_conditions(actor, wanted))
    return query.order_by(AuditEventRow.seq)


def page(session: Session, actor: Actor, wanted: EventFilter, after: int, limit: int) -> dict:
    """``{"items", "next_cursor"}``: up to ``limit`` events after ``seq`` ``after``."""
    rows = session.execute(_query(actor, wanted, after).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [StoredEvent(*row).view_dict(actor.is_operator) for row in rows]
    items = [event for event in items if visible(actor, event)]
    return {
        "items": items,
        "next_cursor": CURSORS.encode(rows[-1][0]) if more and rows else None,
    }


def count(session: Session, actor: Actor, wanted: EventFilter) -> int:
    """How many events ``actor`` may see match ``wanted``: one ``COUNT`` over the index."""
    query = select(func.count()).select_from(AuditEventRow)
    return session.scalar(query.where(*_conditions(actor, wanted))) or 0


def numbered_page(
    session: Session,
    actor: Actor,
    wanted: EventFilter,
    number: int,
    size: int,
    newest_first: bool,
) -> dict:
    """Page ``number`` (from 1; clamped to the pages there are) of ``size`` events, newest
    or oldest first: ``{"items", "total", "pages", "number"}``.

    A person pages by number and wants today's events first, which a cursor (the API's
    oldest-first paging) cannot give; the total is one ``COUNT`` with the same clauses, and the
    page is read with ``OFFSET`` along the ``seq`` primary key."""
    total = count(session, actor, wanted)
    pages = max(1, -(-total // size))
    number = min(max(1, number), pages)
    order = AuditEventRow.seq.desc() if newest_first else AuditEventRow.seq
    query = (
        select(*_COLUMNS)
        .where(*_conditions(actor, wanted))
        .order_by(order)
        .offset((number - 1) * size)
        .limit(size)
    )
    rows = session.execute(query).all()
    items = [StoredEvent(*row).view_dict(actor.is_operator) for row in rows]
    return {
        "items": [event for event in items if visible(actor, event)],
        "total": total,
        "pages": pages,
        "number": number,
    }


def stream(
    db: Database, actor: Actor, wanted: EventFilter, batch: int = 1000
) -> Iterator[StoredEvent]:
    """Every selected event in ``seq`` order, read a batch at a time in short transactions,
    so no connection is held while the caller writes the answer. For a partner each event is
    parsed and checked against its canonical JSON first."""
    after = 0
    while True:
        with db.session() as session:
            rows = session.execute(_query(actor, wanted, after).limit(batch)).all()
        for row in rows:
            stored = StoredEvent(*row)
            if actor.is_operator or visible(actor, json.loads(stored.canonical)):
                yield stored
        if len(rows) < batch:
            return
        after = rows[-1][0]
