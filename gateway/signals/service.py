"""The signals service: create (with immediate matching) and close, over plain Python.

Handlers call these methods and render what they return. Every change is one transaction
that starts with its audit event; refusals are audited under the attempted action.

Only the organisation types of the signal policy may signal, and only they are told of each
other (API.md section 13 rules 5 and 6); a signal closed with no exchange about the child in
between is counted as a possible probe (:mod:`.probes`).

``signal_match`` messages come from the operator organisation (API.md section 3). When none
is registered, a match is still recorded, so the pair is not told twice once an operator
exists, but no message can be sent; a warning says so. Every installation's bootstrap
registers the operator.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.subjects import DomainSubjects
from pseudonymise import (
    Bsn,
    DomainPseudonymiser,
    LinkTag,
    PseudonymiseError,
)
from schemas.errors import SchemaValidationError
from schemas.signal import load_signal_request

from .. import metrics
from ..audit.log import AuditEvent, AuditLog, rfc3339
from ..clock import Clock
from ..consents.trail import AuditTrail
from ..pep.subjects import PolymorphicRefusal, SubjectResolver
from ..problems import GatewayError
from ..storage.database import Database
from ..storage.models import Organisation
from . import matching, probes
from .models import SignalMatchRow, SignalRow
from .notices import MatchNotifier, Side

log = logging.getLogger(__name__)

MATCH_DOMAIN = "match"
AUDIT_DOMAIN = "audit"


class SignalService:
    def __init__(
        self,
        db: Database,
        pseudonymiser: DomainPseudonymiser,
        notifier: MatchNotifier,
        audit: AuditLog,
        trail: AuditTrail,
        clock: Clock,
        timezone: str = "Europe/Amsterdam",
    ) -> None:
        self.db = db
        self.pseudonymiser = pseudonymiser
        self.subjects = DomainSubjects(pseudonymiser, MATCH_DOMAIN)
        self.audit_subjects = DomainSubjects(pseudonymiser, AUDIT_DOMAIN)
        self.resolver = SubjectResolver(pseudonymiser, notifier.polymorphic, AUDIT_DOMAIN)
        self.notifier = notifier
        self.policy = notifier.policy
        self.audit = audit
        self.trail = trail
        self.clock = clock
        self.timezone = timezone

    # create --------------------------------------------------------------------------------
    def authorise(self, caller, fsc_transaction_id: str) -> None:
        """Refuse a caller whose organisation type the signal policy does not name, before
        anything about the child is read: the denial names no subject."""
        if self.policy.may_signal(caller.org_type):
            return
        self.trail.deny(
            "signal.create", caller, "signal_not_allowed", fsc_transaction_id=fsc_transaction_id
        )
        raise GatewayError(
            "Organisations of your type may not signal.", code="signal_not_allowed", status=403
        )

    def create(self, caller, body: dict, fsc_transaction_id: str) -> dict:
        """Record the signal and match it at once; ``201`` answer as a dict."""
        try:
            loaded = load_signal_request(body)
            bsn, pep_subject = self._child(caller, loaded["subject"])
        except SchemaValidationError as exc:
            self._deny(caller, exc.code, body, fsc_transaction_id)
            raise GatewayError(
                "The request body is not valid.", code=exc.code, status=422, errors=exc.errors
            ) from None
        except GatewayError as exc:
            self._deny(caller, exc.code, body, fsc_transaction_id)
            raise
        now = self.clock()
        refs = self.subjects.refs(bsn)
        audit_ref = self.pseudonymiser.pseudonymise_child(bsn, AUDIT_DOMAIN)
        signal = SignalRow(
            id=str(uuid.uuid4()),
            org_id=caller.org_id,
            client_id=caller.client_id,
            match_ref=refs[0],
            category=loaded["category"],
            contact=loaded["contact"],
            status=matching.OPEN,
            created_at=now,
            pep_subject=pep_subject,
        )
        event = self._event("signal.create", caller, audit_ref, fsc_transaction_id)
        # who named the child in this event, and in which form, for the caller's own subject
        # report (API.md section 13 rule 2); a polymorphic subject is made from the BSN, so it
        # counts as the BSN, as for exchanges
        named_by = (caller.org_oin,)
        if "pseudonym" in loaded["subject"]:
            event = replace(event, pseudonym_to=named_by)
        else:
            event = replace(event, clear_to=named_by)
        with self.db.session() as session:
            self.audit.append(session, event, now)
            session.add(signal)
            session.flush()
            self._match(session, signal, refs, bsn, audit_ref, now, fsc_transaction_id)
        return {"id": signal.id, "status": matching.OPEN, "created_at": rfc3339(now)}

    def _child(self, caller, subject: dict) -> tuple[Bsn | LinkTag, bytes | None]:
        """The child (:class:`SubjectResolver`), and in polymorphic mode its ciphertext
        (kept to tell matches)."""
        if self.resolver.is_polymorphic(subject):
            return self._polymorphic_child(caller, subject)
        return self.resolver.bsn_of(subject, caller.org_oin), None

    def _polymorphic_child(self, caller, subject: dict) -> tuple[LinkTag, bytes]:
        """A polymorphic signal: the caller takes part (it will receive encrypted pseudonyms)
        and its proof holds. Replies by encrypted pseudonym are for exchanges only."""
        if "encrypted_pseudonym" in subject:
            raise GatewayError(
                "The request body is not valid.",
                code="validation_failed",
                status=422,
                errors={
                    "subject.encrypted_pseudonym": [
                        "Signals name the child by bsn, pseudonym or polymorphic."
                    ]
                },
            )
        service = self.resolver.polymorphic
        try:
            with self.db.session() as session:
                service.require_sender(session, caller.org_id, caller.org_oin)
            child = service.read_polymorphic(subject["polymorphic"], caller.org_oin)
        except PolymorphicRefusal as refusal:
            raise refusal.problem() from None
        return child.link, child.source.to_bytes()

    def _match(self, session: Session, signal: SignalRow, refs, bsn, audit_ref, now, fsc):
        """Match the new signal with every other organisation's open signal on the child."""
        others = matching.counterparts(matching.open_signals(session, refs), signal.org_id)
        if not others:
            return
        operator = operator_organisation(session)
        orgs = {
            org.id: org
            for org in session.scalars(
                select(Organisation).where(Organisation.id.in_([signal.org_id, *others]))
            )
        }
        mine = Side(orgs[signal.org_id], signal)
        for org_id, other_signal in others.items():
            if not self.policy.may_signal(orgs[org_id].type):
                continue  # a type no longer in the policy is linked with no one (rule 6)
            if matching.has_live_match(session, refs, signal.org_id, org_id):
                continue
            row = self._match_row(signal, other_signal, refs[0], now)
            if operator is None:
                log.warning(
                    "signal match recorded without inbox messages: no operator "
                    "organisation is registered"
                )
            else:
                theirs = Side(orgs[org_id], other_signal)
                ids = {
                    recipient.org.id: self.notifier.notify(
                        session,
                        operator,
                        recipient,
                        other,
                        bsn=bsn,
                        audit_ref=audit_ref,
                        now=now,
                        fsc_transaction_id=fsc,
                        timezone=self.timezone,
                    )
                    for recipient, other in ((mine, theirs), (theirs, mine))
                }
                row.first_message_id = ids[row.first_org_id]
                row.second_message_id = ids[row.second_org_id]
            session.add(row)

    @staticmethod
    def _match_row(signal: SignalRow, other: SignalRow, match_ref: str, now) -> SignalMatchRow:
        first, second = sorted((signal, other), key=lambda s: s.org_id)
        return SignalMatchRow(
            match_ref=match_ref,
            first_org_id=first.org_id,
            second_org_id=second.org_id,
            first_signal_id=first.id,
            second_signal_id=second.id,
            matched_at=now,
        )

    # close ---------------------------------------------------------------------------------
    def close(self, caller, signal_id: str, fsc_transaction_id: str) -> dict:
        """Close the caller's own signal; a repeat answers the same. Others get 404."""
        with self.db.session() as session:
            signal = session.scalars(
                select(SignalRow).where(
                    SignalRow.id == signal_id, SignalRow.org_id == caller.org_id
                )
            ).first()
        if signal is None:
            self.trail.deny(
                "signal.close", caller, "not_found", fsc_transaction_id=fsc_transaction_id
            )
            raise GatewayError("No signal of yours with this id.", code="not_found", status=404)
        if signal.status == matching.CLOSED:
            return {"id": signal.id, "status": matching.CLOSED}
        now = self.clock()
        refs = self.subjects.aliases(signal.match_ref)
        audit_ref = self.trail.from_domain(signal.match_ref, MATCH_DOMAIN)
        with self.db.session() as session:
            self.audit.append(
                session, self._event("signal.close", caller, audit_ref, fsc_transaction_id), now
            )
            row = session.get(SignalRow, signal.id)
            row.status, row.closed_at = matching.CLOSED, now
            session.flush()
            still_open = [
                s for s in matching.open_signals(session, refs) if s.org_id == caller.org_id
            ]
            if not still_open:
                matching.end_matches(session, refs, caller.org_id, now)
            probe = not probes.exchanged_since(
                session, caller.org_id, self._audit_refs(signal.match_ref), signal.created_at
            )
        if probe:
            _possible_probe(caller, signal.id)
        return {"id": signal.id, "status": matching.CLOSED}

    def _audit_refs(self, match_ref: str) -> list[str]:
        """The child's audit pseudonyms under every key version (exchanges are filed by the
        version current when they were made)."""
        try:
            child = self.pseudonymiser.reveal_child(match_ref, MATCH_DOMAIN)
        except PseudonymiseError:
            return []
        return self.audit_subjects.refs(child)

    # audit ---------------------------------------------------------------------------------
    @staticmethod
    def _event(action: str, caller, audit_ref: str | None, fsc: str) -> AuditEvent:
        return AuditEvent(
            action=action,
            decision="allowed",
            actor_org=caller.org_oin,
            actor_client_id=caller.client_id,
            subject_ref=audit_ref,
            fsc_transaction_id=fsc,
        )

    def _deny(self, caller, code: str, body: dict, fsc: str) -> None:
        subject = self.resolver.audit_ref(body.get("subject"), caller.org_oin)
        self.trail.deny("signal.create", caller, code, subject_ref=subject, fsc_transaction_id=fsc)


def operator_organisation(session: Session) -> Organisation | None:
    """The organisation that runs the gateway: the sender of ``signal_match`` messages."""
    return session.scalars(
        select(Organisation)
        .where(Organisation.type == "operator")
        .order_by((Organisation.status != "active"), Organisation.id)
    ).first()


def _possible_probe(caller, signal_id: str) -> None:
    """Count and log a signal closed with no exchange about the child since it was opened."""
    metrics.SIGNAL_PROBES.labels(org_type=caller.org_type).inc()
    log.warning(
        "possible signal probe: a signal was closed with no exchange about the child "
        "since it was opened",
        extra={"org": caller.org_oin, "client_id": caller.client_id, "signal_id": signal_id},
    )
