"""What a Logboek Dataverwerkingen record says, and writing it beside the processing's event.

Every data processing of the gateway already writes one audit event in its own transaction
(API.md section 8). :class:`LogboekWriter` is the audit log's hook: for an event whose action
is a data processing (:func:`is_processing`) it inserts one ``logboek_records`` row in the same
transaction, so a record exists exactly when the processing committed (one extra INSERT on the
send path), and none is lost when the Logboek is away (:mod:`gateway.logboek.exporter` sends
it later). A server error rolls its processing back, event and record alike; the HTTP layer
then writes the ERROR record in a transaction of its own (:meth:`LogboekWriter.failed`).

A record (the standard's fields, as OTLP span fields):

- ``trace_id``/``span_id``: the gateway's own trace of the request (:mod:`gateway.telemetry`;
  a further processing of the same request gets a trace of its own, ``Trace.next``) and a
  span of this processing; ``parent_span_id`` the request's span. The audit event carries the
  same two ids, so the audit log and the Logboek join on them;
- ``name``: the audit action (``exchange.send``); ``start_time`` the request's start,
  ``end_time`` the event's time;
- ``status_code``: OK for an allowed processing, UNSET for a refusal (a 4xx is no server
  error), ERROR for a server error (5xx);
- ``foreign_operation``: the caller's ``traceparent`` with ``entity`` ``urn:nl:oin:<OIN>``
  of the calling organisation (:func:`entity_of`);
- ``dpl.core.processing_activity_id``: the register's URI (:mod:`gateway.processing.ids`);
- ``dpl.core.data_subject_id`` (+ ``_type``): :mod:`gateway.logboek.subject`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..processing import ids
from ..storage import direct
from ..storage.models import Organisation
from ..telemetry import Trace, new_span_id
from . import subject
from .models import LogboekRecordRow

PROCESSING_PREFIXES = ("exchange.", "consent.", "signal.", "reidentification.", "case.")
AUDIT_READS = frozenset({"audit.search", "audit.export", "audit.proof"})
SUBJECT_REPORT = "audit.subject_report"
OWN_ACTIVITY = {
    "consent.": ids.CONSENT_REGISTRY,
    "signal.": ids.SIGNAL_MATCHING,
    "reidentification.": ids.REIDENTIFICATION,
}
OIN_URN = "urn:nl:oin:"
_INSERT_RECORD = insert(LogboekRecordRow.__table__).inline()  # no generated key read back
"""A Core insert on the table, built once (the ORM's bulk-insert path cost about 0.5 ms a
statement on the send path under cProfile, issue 23)."""
ORG_TYPES_SECONDS = 300.0


def is_processing(action: str) -> bool:
    """Whether an audit action is a processing of personal data the Logboek records: the
    exchanges and their follow-ups, consents, signals, re-identification, the pact's case
    actions, reading the audit log and the subject access report. Administration of
    organisations, clients and routes processes no child's data and is not recorded."""
    return (
        action.startswith(PROCESSING_PREFIXES) or action in AUDIT_READS or action == SUBJECT_REPORT
    )


def entity_of(oin: str | None) -> str | None:
    """The calling organisation as a URI: ``urn:nl:oin:<OIN>``.

    The OIN is the Dutch government's own identifier of the organisation (the OIN system of
    Logius, the same one FSC and Digikoppeling name parties by), resolvable in the public COR
    and the same in every deployment; a URI into this gateway's registry would change with
    its base URL and mean something only to readers of this gateway.
    """
    return f"{OIN_URN}{oin}" if oin else None


@dataclass(frozen=True)
class Status:
    OK = "ok"
    UNSET = "unset"
    ERROR = "error"


class OrgTypes:
    """OIN -> organisation type, for a route's activity id (``school-leerplicht``): a small
    cache, so a follow-up event (deliver, ack) costs no query most of the time."""

    def __init__(self, seconds: float = ORG_TYPES_SECONDS) -> None:
        self.seconds = seconds
        self._types: dict[str, str] = {}
        self._loaded = 0.0
        self._lock = threading.Lock()

    def types(self, session: Session, oins: tuple[str, ...]) -> dict[str, str]:
        with self._lock:
            stale = time.monotonic() - self._loaded > self.seconds
            if stale or any(oin not in self._types for oin in oins):
                rows = session.execute(select(Organisation.oin, Organisation.type)).all()
                self._types = {oin: org_type for oin, org_type in rows}
                self._loaded = time.monotonic()
            return self._types


class LogboekWriter:
    """The audit log's hook: one outbox row per processing event, same transaction."""

    def __init__(self, keys, base_url: str, generated_types: frozenset[str] = frozenset()):
        self.keys = keys
        self.base_url = base_url
        self.generated_types = generated_types
        self.org_types = OrgTypes()

    # the audit log calls this ------------------------------------------------------------
    def after_append(
        self, session: Session, event, at: datetime, seq: int, trace: Trace, span_id: str
    ) -> None:
        if not is_processing(event.action):
            return
        status = Status.OK if event.decision == "allowed" else Status.UNSET
        if trace.failed:
            status = Status.ERROR
        direct.execute(
            session,
            _INSERT_RECORD,
            self._row(session, event, at, trace, span_id, status, seq),
        )

    def failed(self, session: Session, trace: Trace, name: str, activity: str | None) -> None:
        """The ERROR record of a processing a server error rolled back (written by the HTTP
        layer in a transaction of its own: its own transaction is gone); ``activity`` is the
        register's id when the processing got far enough to know it. No subject: what the
        request named is not trusted once it failed, and no BSN may enter the record."""
        now = time.time_ns()
        session.execute(
            insert(LogboekRecordRow),
            {
                "trace_id": trace.trace_id,
                "span_id": new_span_id(),
                "parent_span_id": trace.span_id,
                "name": name[:64],
                "start_ns": trace.started_ns,
                "end_ns": max(now, trace.started_ns),
                "status": Status.ERROR,
                "decision": "error",
                "reason": "internal_error",
                "activity": ids.activity_uri(self.base_url, activity) if activity else None,
                "subject": None,
                "subject_type": None,
                **self._foreign(trace, None),
                "audit_seq": None,
                "attempts": 0,
            },
        )

    # the record --------------------------------------------------------------------------
    def _row(self, session, event, at, trace: Trace, span_id, status, seq) -> dict:
        end_ns = int(at.timestamp() * 1_000_000_000)
        subject_id = subject_type = None
        if event.subject_ref:
            key, version = self.keys.logboek_key()
            subject_id = subject.encrypt(event.subject_ref, key, version)
            subject_type = subject.SUBJECT_TYPE
        return {
            "trace_id": trace.trace_id,
            "span_id": span_id,
            "parent_span_id": trace.span_id if trace.in_request else None,
            "name": event.action[:64],
            "start_ns": min(trace.started_ns, end_ns),
            "end_ns": end_ns,
            "status": status,
            "decision": event.decision,
            "reason": event.reason[:64] if event.reason else None,
            "activity": self.activity_uri(session, event),
            "subject": subject_id,
            "subject_type": subject_type,
            **self._foreign(trace, event.actor_org),
            "audit_seq": seq,
            "attempts": 0,
        }

    @staticmethod
    def _foreign(trace: Trace, actor_org: str | None) -> dict:
        foreign = trace.foreign
        return {
            "foreign_trace_id": foreign.trace_id if foreign else None,
            "foreign_span_id": foreign.span_id if foreign else None,
            "foreign_entity": entity_of(actor_org or trace.caller) if foreign else None,
        }

    def activity_uri(self, session: Session, event) -> str | None:
        activity = getattr(event, "activity", None) or self.activity_id(session, event)
        return ids.activity_uri(self.base_url, activity) if activity else None

    def activity_id(self, session: Session, event) -> str | None:
        """The register's id of the event's processing activity (None: no activity, e.g. a
        send refused before its route was known)."""
        action = event.action
        for prefix, own in OWN_ACTIVITY.items():
            if action.startswith(prefix):
                return own
        if action in AUDIT_READS:
            return ids.AUDIT_LOG
        if action == SUBJECT_REPORT:
            return ids.SUBJECT_ACCESS
        if not (event.purpose and event.message_type):
            return None
        if event.message_type in self.generated_types:
            return ids.generated_activity_id(event.purpose, event.message_type)
        if not (event.sender and event.recipient):
            return None
        types = self.org_types.types(session, (event.sender, event.recipient))
        sender_type, recipient_type = types.get(event.sender), types.get(event.recipient)
        if sender_type is None or recipient_type is None:
            return None
        return ids.route_activity_id(event.purpose, event.message_type, sender_type, recipient_type)
