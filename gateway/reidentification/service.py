"""Re-identification requests: request, decide (approve or refuse), read once, expire.

Plain Python over an :class:`~gateway.audit.actors.Actor` so the API (an operator client with
``reidentify:approve``) and the web interface (an operator privacy officer) share every rule:

- a request names one of the requester's *own* pseudonyms (else 422 ``unknown_pseudonym``);
  the row keeps that pseudonym and the child's audit pseudonym, never the BSN;
- only the operator organisation decides (403 ``not_operator``), never on a request of its
  own organisation (403 ``own_request``), and only while the request is pending (409
  ``not_pending``);
- the requester's first read after approval reveals the BSN and marks the request
  ``consumed`` in the same transaction; later reads answer ``consumed`` without it; anyone
  else's read is 404 (the request's existence is not confirmed);
- a pending request expires after 7 days (the clock is injected).

Every step, allowed or refused, is an audit event (``reidentification.request|approve|
refuse|read``) naming the child by its audit pseudonym; free text (reasons) stays out of the
audit log. Steps that change a request take the audit head lock first, so the change and its
event are one serialised transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update

from pseudonymise import Bsn, DomainPseudonymiser, PseudonymiseError, organisation_domain
from schemas.errors import SchemaValidationError
from schemas.reidentification import (
    load_reidentification_approval,
    load_reidentification_refusal,
    load_reidentification_request,
)

from ..audit.actors import Actor
from ..audit.log import AuditLog, rfc3339
from ..audit.service import schema_problem
from ..clock import Clock
from ..clock import aware as _aware
from ..problems import GatewayError
from ..storage.database import Database
from .errors import (
    NotOperator,
    NotPending,
    OwnRequest,
    PolymorphicNotReversible,
    RequestNotFound,
    UnknownPseudonym,
)
from .models import ReidentificationRequestRow as Row

AUDIT_DOMAIN = "audit"
PENDING_FOR = timedelta(days=7)
#: A decrypted polymorphic-mode pseudonym: a 32-byte element in base64url without padding.
POLYMORPHIC_PSEUDONYM_LENGTH = 43


def view(row: Row, bsn: Bsn | None = None) -> dict:
    """The API answer for a request; ``bsn`` only in the read that consumes an approval."""
    answer = {
        "id": row.id,
        "status": "approved" if bsn is not None else row.status,
        "created_at": rfc3339(_aware(row.created_at)),
        "expires_at": rfc3339(_aware(row.expires_at)),
        "decided_at": rfc3339(_aware(row.decided_at)) if row.decided_at else None,
        "decision_reason": row.decision_reason,
    }
    if bsn is not None:
        answer["bsn"] = bsn.digits
    return answer


class ReidentificationService:
    def __init__(
        self,
        db: Database,
        pseudonymiser: DomainPseudonymiser,
        audit: AuditLog,
        clock: Clock,
        pending_for: timedelta = PENDING_FOR,
    ) -> None:
        self.db = db
        self.pseudonymiser = pseudonymiser
        self.audit = audit
        self.clock = clock
        self.pending_for = pending_for

    # audit ---------------------------------------------------------------------------------
    def _event(self, action: str, actor: Actor, row: Row | None, fsc: str | None, **fields):
        """Every step names the child the requester knows by its pseudonym, so the event is in
        the requester's subject report by that pseudonym (docs/audit-design.md)."""
        return actor.event(
            action,
            subject_ref=row.subject_ref if row is not None else None,
            recipient=row.requester_org if row is not None else None,
            fsc_transaction_id=fsc,
            pseudonym_to=(row.requester_org,) if row is not None and row.requester_org else (),
            **fields,
        )

    def deny(
        self, action: str, actor: Actor, code: str, fsc: str | None, row: Row | None = None
    ) -> None:
        with self.db.write_session() as session:
            event = self._event(action, actor, row, fsc, reason=code)
            event.decision = "denied"
            self.audit.append(session, event, self.clock())

    def _refuse(self, action: str, actor: Actor, error: GatewayError, fsc, row=None):
        self.deny(action, actor, error.code, fsc, row)
        return error

    # request -------------------------------------------------------------------------------
    def request(self, actor: Actor, body: object, fsc: str | None = None) -> dict:
        """File a request for one of ``actor``'s own pseudonyms; answers ``pending``."""
        action = "reidentification.request"
        try:
            loaded = load_reidentification_request(body)
        except SchemaValidationError as exc:
            self.deny(action, actor, exc.code, fsc)
            raise schema_problem(exc) from None
        if len(loaded["pseudonym"]) == POLYMORPHIC_PSEUDONYM_LENGTH:
            raise self._refuse(action, actor, PolymorphicNotReversible(), fsc)
        try:
            bsn = self.pseudonymiser.reveal(
                loaded["pseudonym"], organisation_domain(actor.org_oin or "")
            )
        except (PseudonymiseError, ValueError):
            raise self._refuse(action, actor, UnknownPseudonym(), fsc) from None
        now = self.clock()
        row = Row(
            id=str(uuid.uuid4()),
            requester_org=actor.org_oin,
            requester_client_id=actor.client_id,
            requester_user=actor.user,
            pseudonym=loaded["pseudonym"],
            subject_ref=self.pseudonymiser.pseudonymise(bsn, AUDIT_DOMAIN),
            reason=loaded["reason"],
            legal_basis=loaded["legal_basis"],
            status="pending",
            created_at=now,
            expires_at=now + self.pending_for,
        )
        del bsn
        with self.db.write_session() as session:
            self.audit.append(session, self._event(action, actor, row, fsc), now)
            session.add(row)
        return {"id": row.id, "status": "pending"}

    # read ----------------------------------------------------------------------------------
    def read(self, actor: Actor, request_id: str, fsc: str | None = None) -> dict:
        """The requester's view; the first read after approval reveals the BSN, once."""
        now = self.clock()
        with self.db.write_session() as session:
            session.execute(AuditLog.LOCK_HEAD)
            row = session.get(Row, request_id)
            if row is None or row.requester_org != actor.org_oin:
                event = self._event("reidentification.read", actor, None, fsc, reason="not_found")
                event.decision = "denied"
                self.audit.append(session, event, now)
                row = None
            else:
                self._expire_if_due(row, now)
                bsn = self._consume(session, row, now)
                forwarded = ["bsn"] if bsn is not None else []
                event = self._event(
                    "reidentification.read",
                    actor,
                    row,
                    fsc,
                    fields_forwarded=forwarded,
                    clear_to=(row.requester_org,) if bsn is not None else (),
                )
                self.audit.append(session, event, now)
                answer = view(row, bsn)
        if row is None:
            raise RequestNotFound()
        return answer

    def _consume(self, session, row: Row, now: datetime) -> Bsn | None:
        if row.status != "approved":
            return None
        bsn = self.pseudonymiser.reveal(row.pseudonym, organisation_domain(row.requester_org))
        taken = session.execute(
            update(Row)
            .where(Row.id == row.id, Row.status == "approved")
            .values(status="consumed", consumed_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken != 1:
            return None
        row.status, row.consumed_at = "consumed", now
        return bsn

    def _expire_if_due(self, row: Row, now: datetime) -> None:
        if row.status == "pending" and now >= _aware(row.expires_at):
            row.status = "expired"

    # decisions -----------------------------------------------------------------------------
    def approve(
        self, actor: Actor, request_id: str, body: object = None, fsc: str | None = None
    ) -> dict:
        """Approve a pending request of another organisation (operator only)."""
        return self._decide("approve", actor, request_id, body, fsc)

    def refuse(
        self, actor: Actor, request_id: str, body: object = None, fsc: str | None = None
    ) -> dict:
        """Refuse a pending request of another organisation, with a reason (operator only)."""
        return self._decide("refuse", actor, request_id, body, fsc)

    def _decide(self, verb: str, actor: Actor, request_id: str, body, fsc) -> dict:
        action = f"reidentification.{verb}"
        loader = (
            load_reidentification_approval if verb == "approve" else load_reidentification_refusal
        )
        try:
            loaded = loader(body)
        except SchemaValidationError as exc:
            self.deny(action, actor, exc.code, fsc)
            raise schema_problem(exc) from None
        if not actor.is_operator:
            raise self._refuse(action, actor, NotOperator(), fsc)
        now = self.clock()
        refusal: GatewayError | None = None
        with self.db.write_session() as session:
            session.execute(AuditLog.LOCK_HEAD)
            row = session.get(Row, request_id)
            if row is not None:
                self._expire_if_due(row, now)
            if row is None:
                refusal = RequestNotFound()
            elif row.requester_org == actor.org_oin:
                refusal = OwnRequest()
            elif row.status != "pending":
                refusal = NotPending(row.status)
            if refusal is not None:
                event = self._event(action, actor, row, fsc, reason=refusal.code)
                event.decision = "denied"
                self.audit.append(session, event, now)
            else:
                row.status = "approved" if verb == "approve" else "refused"
                row.decided_at = now
                row.decided_by_org = actor.org_oin
                row.decided_by_client_id = actor.client_id
                row.decided_by_user = actor.user
                row.decision_reason = loaded.get("reason")
                self.audit.append(session, self._event(action, actor, row, fsc), now)
            answer = view(row) if row is not None else None
        if refusal is not None:
            raise refusal
        return answer

    # the web interface's list --------------------------------------------------------------
    def pending(self, actor: Actor, limit: int = 100) -> list[dict]:
        """Pending requests an operator may decide on (not its own), oldest first."""
        if not actor.is_operator:
            raise NotOperator()
        now = self.clock()
        with self.db.session() as session:
            rows = session.scalars(
                select(Row)
                .where(Row.status == "pending", Row.requester_org != actor.org_oin)
                .order_by(Row.created_at)
                .limit(limit)
            ).all()
        return [
            dict(
                view(row),
                requester_org=row.requester_org,
                legal_basis=row.legal_basis,
                reason=row.reason,
            )
            for row in rows
            if now < _aware(row.expires_at)
        ]

    def decided(self, actor: Actor, limit: int = 50) -> list[Row]:
        """Requests no longer pending (decided, expired or read), the latest first: the
        history the operator's privacy officers answer for (operators only, like
        :meth:`pending`). Rows detached from their session, for the page to read."""
        if not actor.is_operator:
            raise NotOperator()
        with self.db.session() as session:
            rows = session.scalars(
                select(Row)
                .where(Row.status != "pending")
                .order_by(Row.decided_at.desc().nulls_last(), Row.created_at.desc())
                .limit(limit)
            ).all()
            session.expunge_all()
        return list(rows)

    def expire(self) -> int:
        """Mark every pending request past its 7 days as expired; the number marked."""
        now = self.clock()
        with self.db.write_session() as session:
            return session.execute(
                update(Row)
                .where(Row.status == "pending", Row.expires_at <= now)
                .values(status="expired")
                .execution_options(synchronize_session=False)
            ).rowcount
