"""Rule 6 made explicit (design section 2.3): every "organisation L learned that organisation
O is involved with this child" a case makes is recorded once in ``pact_disclosures`` and
written as one ``case.disclose`` audit event, in the transaction that makes the disclosure.

``sender`` is O (learned of), ``recipient`` is L (the learner): L reads in its own audit view
of whom it learned; O does not read it (:data:`gateway.audit.search.DISCLOSE`: that would
tell O of L, which only a disclosure the other way sanctions). The pair's row is
looked up first, so a second disclosure of the same pair (a re-sent participant list) writes
nothing: once per pair, as the unique constraint of the table also guarantees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..audit.log import AuditEvent, AuditLog
from ..audit.search import DISCLOSE
from .models import PactDisclosure


@dataclass(frozen=True)
class Party:
    id: int
    oin: str


@dataclass(frozen=True)
class Disclosure:
    """What a disclosure's audit event says besides the pair: the case's purpose, legal basis,
    consent, child and who acted (the convener's organisation and client)."""

    case_id: str
    purpose: str
    legal_basis: dict | None
    consent_id: str | None
    subject_ref: str
    actor_org: str
    actor_client_id: str | None
    fsc_transaction_id: str | None = None


def pairs(learners: list[Party], learned: list[Party]) -> list[tuple[Party, Party]]:
    """Every (learner, learned) pair of two different organisations, in list order."""
    return [(lo, le) for lo in learners for le in learned if lo.id != le.id]


def disclose(
    session: Session,
    audit: AuditLog,
    about: Disclosure,
    learned_pairs: list[tuple[Party, Party]],
    now: datetime,
) -> int:
    """Record each pair not yet recorded for the case and write its event; return how many."""
    known = set(
        session.execute(
            select(PactDisclosure.learner_org_id, PactDisclosure.learned_org_id).where(
                PactDisclosure.case_id == about.case_id
            )
        ).all()
    )
    written = 0
    for learner, learned in learned_pairs:
        if (learner.id, learned.id) in known:
            continue
        known.add((learner.id, learned.id))
        session.execute(
            insert(PactDisclosure),
            {
                "case_id": about.case_id,
                "learner_org_id": learner.id,
                "learned_org_id": learned.id,
                "at": now,
            },
        )
        audit.append(
            session,
            AuditEvent(
                action=DISCLOSE,
                decision="allowed",
                actor_org=about.actor_org,
                actor_client_id=about.actor_client_id,
                sender=learned.oin,
                recipient=learner.oin,
                purpose=about.purpose,
                legal_basis=about.legal_basis,
                consent_id=about.consent_id,
                subject_ref=about.subject_ref,
                fsc_transaction_id=about.fsc_transaction_id,
                case_id=about.case_id,
            ),
            now,
        )
        written += 1
    return written
