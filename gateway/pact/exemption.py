"""Exemption advice (design section 4): leerplicht's decision on a parents' request for
exemption under Leerplichtwet 1969 art. 5 onder a.

The advisers' answers are ordinary sends (``exemption_medical_advice``,
``exemption_education_advice``), marked on the case by
:class:`~gateway.pact.advice_observer.AdviceObserver`. The decision may be recorded without
one or both (the law does not make the SWV's answer a condition): the missing outcome is then
``none``. It closes the case; an ``exempted_5a`` decision also writes a ``homebound``
monitoring fact of category ``exemption_5a`` (design section 8) with monitoring's own writer,
so the existing ``exemptions_5a`` indicator counts it. The advisers are not told the decision
(OPEN-10, the design's default: leerplicht can tell them by an existing route).
"""

from __future__ import annotations

from datetime import date

from schemas.cases import load_case_decision
from schemas.errors import SchemaValidationError
from schemas.vocabulary import ADVICE_NONE

from ..audit.log import AuditLog
from ..exchange.errors import ValidationFailed
from ..exchange.observers import AcceptedSend
from . import cases as stored
from .cases import Details
from .errors import CaseActionNotAllowed, CaseClosed

DECIDE = "exemption.decide"
EXEMPTED = "exempted_5a"


class ExemptionActions:
    """Mixed into :class:`~gateway.pact.service.CaseService`."""

    def decide(self, caller, case_ref: str, body: dict, fsc: str) -> dict:
        """``POST /api/v1/cases/{case_ref}/decision`` by the convening leerplicht office."""
        now = self.clock()
        with self.refusals(DECIDE, caller, fsc) as attempt:
            try:
                loaded = load_case_decision(body, self.today(now))
            except SchemaValidationError as exc:
                raise ValidationFailed(exc.errors) from None
            with self.db.write_session() as session:
                session.execute(AuditLog.LOCK_HEAD)
                case, own = self.own(session, caller, case_ref, attempt)
                if own.role != "convener" or case.kind != "exemption_advice":
                    raise CaseActionNotAllowed("Only the convening leerplicht office decides.")
                if case.status in ("decided", "closed"):
                    raise CaseClosed("The decision was already recorded.")
                case.decision = loaded["decision"]
                case.decided_on = _day(loaded["decided_on"])
                case.advice_medical = case.advice_medical or ADVICE_NONE
                case.advice_education = case.advice_education or ADVICE_NONE
                case.status, case.close_reason = "decided", case.decision
                case.closed_at = case.updated_at = now
                details = Details.of(self.sealer, case)
                until = loaded.get("valid_until")
                details.valid_until = _day(until).isoformat() if until else None
                details.seal_into(self.sealer, case)
                if case.decision == EXEMPTED:
                    self.facts.accepted(
                        session,
                        AcceptedSend(
                            # one fact per case: the case id is unique where a message id is
                            message_id=case.id,
                            message_type="homebound_report",
                            payload={
                                "category": "exemption_5a",
                                "since_date": case.decided_on.isoformat(),
                            },
                            subject_ref=case.subject_ref,
                            sender_org_id=caller.org_id,
                            recipient_org_id=caller.org_id,
                            at=now,
                        ),
                    )
                receipt = self.audit.append(
                    session, self.event(DECIDE, caller, case, now, fsc, reason=case.decision), now
                )
                return {
                    "case_ref": own.case_ref,
                    "status": "decided",
                    "decision": case.decision,
                    "decided_on": stored.day(case.decided_on),
                    "advice": stored.advice(case),
                    "audit": {"seq": receipt.seq, "hash": receipt.hash},
                }


def _day(value) -> date:
    """A loaded date (the schemas give ``YYYY-MM-DD`` strings) as a ``date``."""
    return value if isinstance(value, date) else date.fromisoformat(value)
