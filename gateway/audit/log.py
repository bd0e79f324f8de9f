"""Appending to the hash-chained audit log (API.md section 8).

``canonical`` = RFC 8785 (JCS) JSON of the event as the API returns it, without ``hash``;
``hash`` = hex SHA-256 of ``canonical``, which covers ``prev_hash``. Events written since the
Logboek Dataverwerkingen (issue 22) also hash ``trace_id`` and ``span_id``: the gateway's own
W3C trace of the processing and the processing's span (:mod:`gateway.telemetry`), the ids of
its Logboek record; older events have neither member and verify as they always did.

Appends are serialised by updating the single ``audit_head`` row as the first statement of the
writing transaction, so ``seq`` is gap-free and the chain cannot fork even with many processes.
The events are also the leaves of an RFC 9162 Merkle tree (leaf index ``seq - 1``), of which
signed checkpoints are made in the appending transaction when due
(:mod:`gateway.audit.checkpoints`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from .. import metrics, telemetry
from ..storage import direct
from . import jcs
from .chain import GENESIS_HASH
from .commitment import commit, new_opening
from .models import AuditEventRow

__all__ = ["GENESIS_HASH", "AuditEvent", "AuditLog", "AuditReceipt", "rfc3339"]
_NEXT_SEQ = text("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
_SET_HEAD_HASH = text("UPDATE audit_head SET hash = :hash WHERE id = 1")
_INSERT_EVENT = insert(AuditEventRow.__table__)
"""A Core insert on the table, built once: the ORM's bulk-insert path of ``insert(AuditEventRow)``
cost about 0.5 ms (profiled) per statement on the send path (issue 23); no ORM state is involved."""


def clear_index(oins: tuple[str, ...]) -> str | None:
    """The ``subject_clear_to`` column: ``,oin,oin,`` so that one OIN matches exactly."""
    return "," + ",".join(sorted(set(oins))) + "," if oins else None


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class AuditEvent:
    """What happened; ``seq``, ``at``, ``prev_hash`` and ``hash`` are added on append."""

    action: str
    decision: str
    actor_org: str | None = None
    actor_client_id: str | None = None
    actor_user: str | None = None
    exchange_id: str | None = None
    message_type: str | None = None
    sender: str | None = None
    recipient: str | None = None
    purpose: str | None = None
    legal_basis: dict | None = None
    consent_id: str | None = None
    reason: str | None = None
    fields_forwarded: list[str] = field(default_factory=list)
    fields_dropped: list[str] = field(default_factory=list)
    fields_generalised: list[str] = field(default_factory=list)
    subject_ref: str | None = None
    fsc_transaction_id: str | None = None
    steps: tuple[str, ...] = ()
    clear_to: tuple[str, ...] = ()
    """OINs of the organisations that named the child's BSN in this event, or received it in
    clear (an index for partners' subject reports, API.md section 13 rule 2; not hashed)."""
    pseudonym_to: tuple[str, ...] = ()
    """OINs of the organisations that named the child by their own pseudonym in this event,
    or received it (the same kind of index, for reports by pseudonym)."""
    case_id: str | None = None
    """The internal id of the pact case this event belongs to (issue 20): an unhashed index
    for the operator's pages, like ``clear_to``; it never enters :meth:`document`, so what a
    partner reads and re-hashes holds no value that links two participants' views of a case
    (docs/pact-workflows.md section 2.2)."""
    activity: str | None = None
    """The register's id of the processing activity, when the writer knows it (a send knows
    its route): the Logboek record's ``dpl.core.processing_activity_id``; not hashed (the
    Logboek derives it from the other members otherwise, :mod:`gateway.logboek.records`)."""

    def document(
        self,
        seq: int,
        at: datetime,
        prev_hash: str,
        commitment: str | None = None,
        trace: tuple[str, str] | None = None,
    ) -> dict:
        """The event as hashed: what every reader receives, without the view members
        (``hash``, ``subject_ref``, ``subject_opening``; docs/audit-design.md).
        ``commitment`` commits to ``subject_ref`` (:mod:`gateway.audit.commitment`);
        ``trace`` is the ``(trace_id, span_id)`` of the processing, hashed as two members
        (absent from events written before them)."""
        document = {
            "seq": seq,
            "at": rfc3339(at),
            "action": self.action,
            "actor": {
                "org": self.actor_org,
                "client_id": self.actor_client_id,
                "user": self.actor_user,
            },
            "exchange_id": self.exchange_id,
            "message_type": self.message_type,
            "sender": self.sender,
            "recipient": self.recipient,
            "purpose": self.purpose,
            "legal_basis": self.legal_basis,
            "consent_id": self.consent_id,
            "decision": self.decision,
            "reason": self.reason,
            "fields_forwarded": list(self.fields_forwarded),
            "fields_dropped": list(self.fields_dropped),
            "fields_generalised": list(self.fields_generalised),
            "subject_commitment": commitment,
            "fsc_transaction_id": self.fsc_transaction_id,
            "prev_hash": prev_hash,
        }
        if trace is not None:
            document["trace_id"], document["span_id"] = trace
        return document


@dataclass(frozen=True)
class AuditReceipt:
    seq: int
    hash: str


FOLLOW_UPS = frozenset(
    {
        "exchange.deliver",
        "exchange.ack",
        "exchange.dead_letter",
        "exchange.retract",
        "exchange.retraction_confirm",
        "case.accept",
        "case.decline",
    }
)
"""Events about an accepted exchange after its send: the organisations that named or got the
child in them are those of the send itself, so they inherit its naming index."""

_SEND_NAMING = text(
    "SELECT subject_clear_to, subject_pseudonym_to FROM audit_events "
    "WHERE exchange_id = :id AND action = 'exchange.send' AND decision = 'allowed' LIMIT 1"
)


def _split(index: str | None) -> tuple[str, ...]:
    return tuple(part for part in (index or "").split(",") if part)


def _naming_of_send(session: Session, exchange_id: str) -> tuple[tuple, tuple]:
    row = direct.execute(session, _SEND_NAMING, {"id": exchange_id}).first()
    return (_split(row[0]), _split(row[1])) if row is not None else ((), ())


_SEQ_PLACEHOLDER = 9007199254740991
_HASH_PLACEHOLDER = "p" * 64


class AuditLog:
    """Writes events; call :meth:`append` first in a transaction (see module docstring).

    After the event is written, the checkpointer may sign a checkpoint in the same transaction
    (:mod:`gateway.audit.checkpoints` says when). A process has one log, built with its
    checkpointer by :mod:`gateway.composition`; a log without one (a unit test's) only appends.

    The canonical JSON is serialised before the head row is locked, with placeholders for
    ``seq`` and ``prev_hash`` that are filled in under the lock: the lock (and so every other
    writer's wait) lasts a few statements, not a JSON serialisation. The placeholders cannot
    collide with event content: in JCS a quote inside a string value is always escaped, so
    ``,"seq":`` and ``"prev_hash":"`` occur only as the members themselves.
    """

    LOCK_HEAD = text("UPDATE audit_head SET seq = seq WHERE id = 1")
    """Run first in a transaction that reads before it appends: takes the append lock up front
    (the row lock on PostgreSQL, the write lock on SQLite), so the later append cannot fail
    on a lock upgrade."""

    def __init__(self, checkpointer=None, logboek=None) -> None:
        self.checkpointer = checkpointer
        self.logboek = logboek
        """The Logboek's hook (:class:`gateway.logboek.records.LogboekWriter`): one record
        per processing event, in the appending transaction; None writes no records."""

    def append(self, session: Session, event: AuditEvent, at: datetime) -> AuditReceipt:
        if event.exchange_id and event.action in FOLLOW_UPS and event.subject_ref:
            event.clear_to, event.pseudonym_to = _naming_of_send(session, event.exchange_id)
        opening = new_opening() if event.subject_ref is not None else None
        commitment = commit(event.subject_ref, opening) if opening is not None else None
        # the request's trace (a fresh one for each further event of the request, see
        # Trace.next), or a trace of its own outside any request (a CLI command, a job);
        # each event is a span of its own in it
        trace = (telemetry.current() or telemetry.Trace()).next()
        span_id = telemetry.new_span_id()
        template = jcs.dumps(
            event.document(
                _SEQ_PLACEHOLDER, at, _HASH_PLACEHOLDER, commitment, (trace.trace_id, span_id)
            )
        ).decode()
        row = direct.execute(session, _NEXT_SEQ).one()
        seq, prev_hash = int(row[0]), row[1]
        canonical = template.replace(
            f'"prev_hash":"{_HASH_PLACEHOLDER}"', f'"prev_hash":"{prev_hash}"', 1
        ).replace(f'"seq":{_SEQ_PLACEHOLDER}', f'"seq":{seq}', 1)
        digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        direct.execute(
            session,
            _INSERT_EVENT,
            {
                "seq": seq,
                "at": at,
                "action": event.action,
                "actor_org": event.actor_org,
                "sender": event.sender,
                "recipient": event.recipient,
                "message_type": event.message_type,
                "decision": event.decision,
                "exchange_id": event.exchange_id,
                "subject_ref": event.subject_ref,
                "subject_opening": opening,
                "subject_clear_to": clear_index(event.clear_to),
                "subject_pseudonym_to": clear_index(event.pseudonym_to),
                "steps": ",".join(event.steps) or None,
                "case_id": event.case_id,
                "canonical": canonical,
                "hash": digest,
            },
        )
        direct.execute(session, _SET_HEAD_HASH, {"hash": digest})
        if self.logboek is not None:
            self.logboek.after_append(session, event, at, seq, trace, span_id)
        if self.checkpointer is not None:
            self.checkpointer.after_append(session, seq, at)
        metrics.AUDIT_ENTRIES.inc()
        return AuditReceipt(seq, digest)
