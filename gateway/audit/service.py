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
from collections.abc import Iterator

from pseudonymise import Bsn, DomainPseudonymiser, LinkTag, is_valid_bsn
from schemas.audit import load_subject_report_request
from schemas.errors import InvalidParameterError, SchemaValidationError

from ..clock import Clock
from ..errors import GatewayError
from ..pep.subjects import PolymorphicRefusal, PolymorphicSubjects
from ..storage.database import Database
from . import export, search
from .actors import Actor
from .checkpoints import Checkpointer, CheckpointUnavailable
from .log import AuditEvent, AuditLog
from .params import EventFilter, decode_cursor
from .proofs import ProofService
from .verify import ChainVerifier, VerifyReport

AUDIT_DOMAIN = "audit"


def schema_problem(exc: SchemaValidationError) -> GatewayError:
    if isinstance(exc, InvalidParameterError):
        return GatewayError(
            "cursor or limit is not valid.", code=exc.code, status=400, errors=exc.errors
        )
    return GatewayError(
        "The request body is not valid.", code=exc.code, status=422, errors=exc.errors
    )


class AuditService:
    def __init__(
        self,
        db: Database,
        pseudonymiser: DomainPseudonymiser,
        checkpointer: Checkpointer,
        clock: Clock,
        audit: AuditLog | None = None,
        polymorphic: PolymorphicSubjects | None = None,
    ) -> None:
        self.db = db
        self.polymorphic = polymorphic or PolymorphicSubjects.unavailable()
        self.pseudonymiser = pseudonymiser
        self.checkpointer = checkpointer
        self.clock = clock
        self.audit = audit or AuditLog(checkpointer)
        self.proofs = ProofService(db, checkpointer)

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
        versions = self.pseudonymiser.keyring.versions
        return tuple(self.pseudonymiser.pseudonymise_child(bsn, AUDIT_DOMAIN, v) for v in versions)

    def _child(self, actor: Actor, subject: dict) -> Bsn | LinkTag:
        """The child of a subject report: a BSN, or a polymorphic subject whose proof holds
        for the caller's organisation (only systems holding the link secret can make one)."""
        if "polymorphic" not in subject:
            return Bsn(subject["bsn"])
        if actor.org_oin is None:  # a web user: the web form takes a BSN only
            raise PolymorphicRefusal(422, "polymorphic_unavailable", "Not for web users.")
        return self.polymorphic.link_of(subject["polymorphic"], actor.org_oin)

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
        after = decode_cursor(cursor)
        self.record(actor.event("audit.search", fsc_transaction_id=fsc_transaction_id))
        with self.db.session() as session:
            return search.page(session, actor, wanted, after, limit)

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
        try:
            bsn = self._child(actor, loaded["subject"])
        except PolymorphicRefusal as refusal:
            self.deny("audit.subject_report", actor, refusal.code, fsc_transaction_id)
            raise refusal.problem() from None
        try:
            after = decode_cursor(loaded["cursor"])
        except GatewayError as error:
            self.deny(
                "audit.subject_report",
                actor,
                error.code,
                fsc_transaction_id,
                self.subject_ref(bsn),
            )
            raise
        self.record(
            actor.event(
                "audit.subject_report",
                subject_ref=self.subject_ref(bsn),
                fsc_transaction_id=fsc_transaction_id,
            )
        )
        wanted = EventFilter(subject_refs=self.subject_refs(bsn))
        with self.db.session() as session:
            return search.page(session, actor, wanted, after, loaded["limit"])

    def export(
        self, actor: Actor, fmt: str, wanted: EventFilter, fsc_transaction_id: str | None = None
    ) -> Iterator[str]:
        """The lines of the export (streamed: the events are read while they are sent)."""
        self.record(actor.event("audit.export", fsc_transaction_id=fsc_transaction_id))
        return export.lines(fmt, search.stream(self.db, actor, wanted))

    def verify(self, actor: Actor, fsc_transaction_id: str | None = None) -> VerifyReport:
        """Verify the whole chain and every checkpoint; a valid log gets a fresh checkpoint
        of its head, so the answer's ``checkpoint`` covers what was verified."""
        self.record(actor.event("audit.verify", fsc_transaction_id=fsc_transaction_id))
        report = ChainVerifier(self.db, self.checkpointer.signer.public_key).verify()
        if report.valid:
            try:
                fresh = self.checkpointer.ensure(self.db, covering=report.entries)
            except CheckpointUnavailable:
                fresh = None
            if fresh is not None:
                report.checkpoint = fresh
        return report

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
