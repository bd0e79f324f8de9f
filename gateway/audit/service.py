"""The audit log as its readers use it: search, subject access report, export, verify, proofs.

Plain Python over an :class:`~gateway.audit.actors.Actor`, so the API (clients with
``audit:read``) and the web interface (privacy officers) share every rule. Every read is
itself an audit event (``audit.search``, ``audit.subject_report``, ``audit.export``,
``audit.verify``), written and committed *before* anything is read: a read that was answered
is always on record, and the read itself never holds the append lock. A refused read is
recorded under the action it attempted, with ``decision: denied`` and the problem code.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace

from sqlalchemy import select

from pseudonymise import (
    Bsn,
    DomainPseudonymiser,
    LinkTag,
    PseudonymiseError,
    is_valid_bsn,
    organisation_domain,
)
from schemas.audit import load_subject_report_request
from schemas.errors import InvalidParameterError, SchemaValidationError

from ..clock import Clock
from ..pep.subjects import PolymorphicRefusal, PolymorphicSubjects
from ..problems import GatewayError
from ..storage.database import Database
from . import export, search
from .actors import Actor
from .chain import check_entry
from .checkpoints import Checkpointer, CheckpointUnavailable
from .errors import UnknownEntry
from .gaps import GapWatch
from .log import AuditEvent, AuditLog, rfc3339
from .models import AuditEventRow
from .params import CURSORS, EventFilter
from .proofs import ProofService
from .verify import ChainVerifier, VerifyReport
from .witness import AuditLogRewound

AUDIT_DOMAIN = "audit"
VERIFY_CACHE_SECONDS = 60.0


def naming(actor: Actor, subject: dict, child: object) -> dict:
    """The audit index of a request that named a child: the caller named its BSN (or the
    polymorphic encryption it made from the BSN) or its own pseudonym (docs/audit-design.md)."""
    if child is None or actor.org_oin is None:
        return {}
    if "pseudonym" in subject:
        return {"pseudonym_to": (actor.org_oin,)}
    return {"clear_to": (actor.org_oin,)}


def schema_problem(exc: SchemaValidationError) -> GatewayError:
    if isinstance(exc, InvalidParameterError):
        return GatewayError(
            "cursor or limit is not valid.", code=exc.code, status=400, errors=exc.errors
        )
    return GatewayError(
        "The request body is not valid.", code=exc.code, status=422, errors=exc.errors
    )


@dataclass(eq=False)
class AuditService:
    """The readers' service, built from what it depends on; without ``polymorphic`` a
    polymorphic subject is refused as unavailable."""

    db: Database
    pseudonymiser: DomainPseudonymiser
    checkpointer: Checkpointer
    clock: Clock
    audit: AuditLog
    polymorphic: PolymorphicSubjects | None = None
    verify_cache_seconds: float = VERIFY_CACHE_SECONDS

    def __post_init__(self) -> None:
        self.polymorphic = self.polymorphic or PolymorphicSubjects.unavailable()
        self.proofs = ProofService(self.db, self.checkpointer)
        self.gaps = GapWatch(self.db, self.audit, self.clock, self.checkpointer)
        self._walk: tuple[float, VerifyReport] | None = None
        self._walk_lock = threading.Lock()

    # recording -----------------------------------------------------------------------------
    def record(self, event: AuditEvent) -> None:
        with self.db.write_session() as session:
            self.audit.append(session, event, self.clock())

    def deny(
        self,
        action: str,
        actor: Actor,
        code: str,
        fsc_transaction_id: str | None = None,
        subject_ref: str | None = None,
    ) -> None:
        self.record(
            actor.event(
                action,
                "denied",
                reason=code,
                subject_ref=subject_ref,
                fsc_transaction_id=fsc_transaction_id,
            )
        )

    def subject_ref(self, bsn: Bsn | LinkTag) -> str:
        return self.pseudonymiser.pseudonymise_child(bsn, AUDIT_DOMAIN)

    def subject_refs(self, bsn: Bsn | LinkTag) -> tuple[str, ...]:
        """The child's audit pseudonym under every key version still held (rotation)."""
        return self.pseudonymiser.pseudonymise_child_versions(bsn, AUDIT_DOMAIN)

    def _child(self, actor: Actor, subject: dict) -> Bsn | LinkTag | None:
        """The child of a subject report: a BSN, the caller's own pseudonym (None when it is
        not one: the answer is then that of a child nobody ever named), or a polymorphic
        subject whose proof holds for the caller's organisation."""
        if "bsn" in subject:
            return Bsn(subject["bsn"])
        if "pseudonym" in subject:
            if actor.org_oin is None:
                return None
            try:
                return self.pseudonymiser.reveal(
                    subject["pseudonym"], organisation_domain(actor.org_oin)
                )
            except PseudonymiseError:
                return None
        if actor.org_oin is None:  # a web user: the web form takes a BSN only
            raise PolymorphicRefusal(422, "polymorphic_unavailable", "Not for web users.")
        return self.polymorphic.link_of(subject["polymorphic"], actor.org_oin)

    @staticmethod
    def _report_filter(actor: Actor, subject: dict, refs: tuple[str, ...]) -> EventFilter:
        """Which of the child's events this reader may see (API.md section 13 rule 2).

        The operator's readers see the child's whole trail. A partner sees, of the events it
        may see at all, those in which it named the child in the same form it asks with, or
        received it so: by BSN (or its polymorphic encryption, made from the BSN) the events
        where it sent the BSN or received it in clear; by its own pseudonym those where it
        used or received that pseudonym. So no answer depends on whether a guessed BSN is the
        child it knows by pseudonym."""
        if actor.is_operator:
            return EventFilter(subject_refs=refs)
        oin = actor.org_oin or ""
        if "pseudonym" in subject:
            return EventFilter(subject_refs=refs, pseudonym_to=oin)
        return EventFilter(subject_refs=refs, clear_to=oin)

    def _best_effort_subject_ref(self, body: object) -> str | None:
        subject = body.get("subject") if isinstance(body, dict) else None
        bsn = subject.get("bsn") if isinstance(subject, dict) else None
        if isinstance(bsn, str) and is_valid_bsn(bsn):
            return self.subject_ref(Bsn(bsn))
        return None

    # reads ---------------------------------------------------------------------------------
    def search(
        self,
        actor: Actor,
        wanted: EventFilter,
        cursor: str | None,
        limit: int,
        fsc_transaction_id: str | None = None,
    ) -> dict:
        """A page of the events ``actor`` may see that match ``wanted``."""
        after = CURSORS.decode(cursor)
        self.record(actor.event("audit.search", fsc_transaction_id=fsc_transaction_id))
        with self.db.session() as session:
            return search.page(session, actor, wanted, after, limit)

    def browse(
        self,
        actor: Actor,
        wanted: EventFilter,
        page_number: int,
        size: int,
        newest_first: bool = True,
        about: str | None = None,
    ) -> dict:
        """A numbered page of the events ``actor`` may see that match ``wanted``, newest
        first unless asked otherwise, with ``total`` and ``pages`` (the web page; the API
        keeps its oldest-first cursor of :meth:`search`). Audited as ``audit.search``; a
        read of one child's trail (``wanted`` names one ``subject_ref``, or ``about`` names
        the child of a pact case read whole) carries that reference, so the read is on that
        child's own record like a subject report."""
        refs = wanted.subject_refs or ()
        subject_ref = about or (refs[0] if len(refs) == 1 else None)
        self.record(actor.event("audit.search", subject_ref=subject_ref))
        with self.db.session() as session:
            return search.numbered_page(session, actor, wanted, page_number, size, newest_first)

    def subject_report(
        self, actor: Actor, body: object, fsc_transaction_id: str | None = None
    ) -> dict:
        """One child's events (those ``actor`` may see), by BSN in the body."""
        try:
            loaded = load_subject_report_request(body)
        except SchemaValidationError as exc:
            self.deny(
                "audit.subject_report",
                actor,
                exc.code,
                fsc_transaction_id,
                self._best_effort_subject_ref(body),
            )
            raise schema_problem(exc) from None
        subject = loaded["subject"]
        try:
            child = self._child(actor, subject)
        except PolymorphicRefusal as refusal:
            self.deny("audit.subject_report", actor, refusal.code, fsc_transaction_id)
            raise refusal.problem() from None
        subject_ref = self.subject_ref(child) if child is not None else None
        try:
            after = CURSORS.decode(loaded["cursor"])
        except GatewayError as error:
            self.deny("audit.subject_report", actor, error.code, fsc_transaction_id, subject_ref)
            raise
        self.record(
            actor.event(
                "audit.subject_report",
                subject_ref=subject_ref,
                fsc_transaction_id=fsc_transaction_id,
                **naming(actor, subject, child),
            )
        )
        if child is None:
            return {"items": [], "next_cursor": None}
        wanted = self._report_filter(actor, subject, self.subject_refs(child))
        with self.db.session() as session:
            return search.page(session, actor, wanted, after, loaded["limit"])

    def export(
        self, actor: Actor, fmt: str, wanted: EventFilter, fsc_transaction_id: str | None = None
    ) -> Iterator[str]:
        """The lines of the export (streamed: the events are read while they are sent)."""
        self.record(actor.event("audit.export", fsc_transaction_id=fsc_transaction_id))
        return export.lines(fmt, search.stream(self.db, actor, wanted), actor.is_operator)

    def verify(
        self, actor: Actor, fsc_transaction_id: str | None = None, fresh: bool = False
    ) -> VerifyReport:
        """Verify the chain and every checkpoint; a valid log gets a fresh checkpoint of its
        head, so the answer's ``checkpoint`` covers what was verified.

        A full walk reads every entry, so repeated callers share one: a valid walk younger
        than ``verify_cache_seconds`` is reused, and only the entries appended since are
        checked (hash, sequence, link to the walked head); ``fresh`` (the CLI) always walks.
        The answer's ``verified_at`` says when the full walk ran. While the log is rewound
        below a published checkpoint (a database restore, :mod:`gateway.audit.gaps`) the
        answer is invalid, names the gap and carries no checkpoint."""
        self.record(actor.event("audit.verify", fsc_transaction_id=fsc_transaction_id))
        report = None if fresh else self._recent_walk()
        if report is None:
            report = ChainVerifier(self.db, self.checkpointer.signer.public_key).verify()
            report.verified_at = rfc3339(self.clock())
            with self._walk_lock:
                self._walk = (time.monotonic(), report) if report.valid else None
        gap = self.gaps.current()
        if gap is not None:
            problem = "; ".join(part for part in (gap.describe(), report.problem) if part)
            return replace(report, valid=False, checkpoint=None, problem=problem, gap=gap)
        if report.valid:
            try:
                fresh = self.checkpointer.ensure(self.db, covering=report.entries)
            except CheckpointUnavailable:
                fresh = None
            if fresh is not None:
                report.checkpoint = fresh
        return report

    def _recent_walk(self) -> VerifyReport | None:
        """The last valid full walk extended by its tail, or None when a full walk is due."""
        with self._walk_lock:
            walk = self._walk
        if walk is None or time.monotonic() - walk[0] >= self.verify_cache_seconds:
            return None
        walked = walk[1]
        report = VerifyReport(valid=True, entries=walked.entries, head_hash=walked.head_hash)
        report.verified_at = walked.verified_at
        with self.db.session() as session:
            rows = session.execute(
                select(AuditEventRow.seq, AuditEventRow.canonical, AuditEventRow.hash)
                .where(AuditEventRow.seq > walked.entries)
                .order_by(AuditEventRow.seq)
            ).all()
        for seq, canonical, digest in rows:
            if seq != report.entries + 1 or check_entry(seq, canonical, digest, report.head_hash):
                return None  # something is off: the full walk finds and names it
            report.entries, report.head_hash = seq, digest
        return report

    def proof(
        self, actor: Actor, seq: int, tree_size: int | None, fsc_transaction_id: str | None = None
    ) -> dict:
        """An inclusion proof of entry ``seq`` for a reader that may see that entry: a partner
        gets proofs of its own events only (one of another organisation's answers 404, as for
        an entry that does not exist). Audited as ``audit.proof``; refused (503) while the log
        is rewound below a published checkpoint."""
        if not actor.is_operator:
            with self.db.session() as session:
                mine = session.scalar(
                    select(AuditEventRow.seq).where(
                        AuditEventRow.seq == seq, search.partner_visibility(actor.org_oin or "")
                    )
                )
            if mine is None:
                self.deny("audit.proof", actor, "not_found", fsc_transaction_id)
                raise UnknownEntry("No audit entry with this sequence number.")
        gap = self.gaps.current()
        if gap is not None:
            self.deny("audit.proof", actor, AuditLogRewound.code, fsc_transaction_id)
            raise AuditLogRewound(gap)
        self.record(actor.event("audit.proof", fsc_transaction_id=fsc_transaction_id))
        return self.proofs.inclusion(seq, tree_size)

    # public material -----------------------------------------------------------------------
    def key(self) -> dict:
        signer = self.checkpointer.signer
        return {
            "key_id": signer.key_id.hex(),
            "algorithm": "Ed25519",
            "public_key": base64.b64encode(signer.public_key).decode(),
            "vkey": signer.vkey,
            "name": signer.name,
        }
