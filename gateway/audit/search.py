"""Selecting audit events: visibility, filters, pages and streams.

Visibility (API.md section 8): the operator organisation sees every event; any other
organisation the events where it is the actor, the sender or the recipient. The SQL filter
uses the index columns; each event is then checked once more against its canonical JSON (what
the API returns), so that an index column that disagrees with the hashed event can never show
an organisation someone else's event.

Events are answered exactly as hashed plus ``hash``: the stored canonical JSON with the hash
member spliced in, so that anyone can recompute ``hash`` (drop ``hash``, JCS, SHA-256).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from ..storage.database import Database
from .actors import Actor
from .models import AuditEventRow
from .params import EventFilter, encode_cursor

log = logging.getLogger(__name__)


def event_json(canonical: str, digest: str) -> str:
    """The event as the API returns it: canonical JSON plus ``hash`` (one line of JSON)."""
    return f'{canonical[:-1]},"hash":"{digest}"}}'


def event_dict(canonical: str, digest: str) -> dict:
    event = json.loads(canonical)
    event["hash"] = digest
    return event


def concerns(event: dict, oin: str) -> bool:
    actor = event.get("actor") or {}
    return oin in (actor.get("org"), event.get("sender"), event.get("recipient"))


def visible(actor: Actor, event: dict) -> bool:
    if actor.is_operator:
        return True
    if actor.org_oin is not None and concerns(event, actor.org_oin):
        return True
    log.error("audit index columns disagree with event %s; not shown", event.get("seq"))
    return False


def _query(actor: Actor, wanted: EventFilter, after: int) -> Select:
    query = select(AuditEventRow.seq, AuditEventRow.canonical, AuditEventRow.hash).where(
        AuditEventRow.seq > after
    )
    if not actor.is_operator:
        oin = actor.org_oin or ""
        query = query.where(
            or_(
                AuditEventRow.actor_org == oin,
                AuditEventRow.sender == oin,
                AuditEventRow.recipient == oin,
            )
        )
    if wanted.org is not None:
        query = query.where(
            or_(
                AuditEventRow.actor_org == wanted.org,
                AuditEventRow.sender == wanted.org,
                AuditEventRow.recipient == wanted.org,
            )
        )
    if wanted.start is not None:
        query = query.where(AuditEventRow.at >= wanted.start)
    if wanted.end is not None:
        query = query.where(AuditEventRow.at < wanted.end)
    if wanted.action is not None:
        query = query.where(AuditEventRow.action == wanted.action)
    if wanted.message_type is not None:
        query = query.where(AuditEventRow.message_type == wanted.message_type)
    if wanted.decision is not None:
        query = query.where(AuditEventRow.decision == wanted.decision)
    if wanted.subject_refs is not None:
        query = query.where(AuditEventRow.subject_ref.in_(wanted.subject_refs))
    return query.order_by(AuditEventRow.seq)


def page(session: Session, actor: Actor, wanted: EventFilter, after: int, limit: int) -> dict:
    """``{"items", "next_cursor"}``: up to ``limit`` events after ``seq`` ``after``."""
    rows = session.execute(_query(actor, wanted, after).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [event_dict(canonical, digest) for _, canonical, digest in rows]
    items = [event for event in items if visible(actor, event)]
    return {
        "items": items,
        "next_cursor": encode_cursor(rows[-1][0]) if more and rows else None,
    }


def stream(
    db: Database, actor: Actor, wanted: EventFilter, batch: int = 1000
) -> Iterator[tuple[str, str]]:
    """``(canonical, hash)`` of every selected event in ``seq`` order, read a batch at a time
    in short transactions, so no connection is held while the caller writes the answer. For
    a partner each event is parsed and checked against its canonical JSON first."""
    after = 0
    while True:
        with db.session() as session:
            rows = session.execute(_query(actor, wanted, after).limit(batch)).all()
        for _, canonical, digest in rows:
            if actor.is_operator or visible(actor, json.loads(canonical)):
                yield canonical, digest
        if len(rows) < batch:
            return
        after = rows[-1][0]
