"""The case as stored and as each participant may read it (design sections 2.1, 3.2, 4.1).

A case is reached only through a participant's own ``case_ref``: :func:`find_own` answers
the one participation of the caller's organisation that holds the ref, and nothing for any
other ref (another participant's included), so every caller without it gets the same 404.

What a case says beyond categories and dates is sealed at rest in ``details`` with the
message sealer, under the case id (:class:`Details`): the meeting's time and mode, an
exemption's validity, and the child as each party names it. The child is kept sealed because
the requests that follow the opening name no subject (the agreements, an invitee's answer):
the gateway sends those messages on the convener's or the invitee's behalf, so it must give
the pipeline the subject as that organisation would (the convener's subject as it was sent;
each participant's as it was delivered to it), and never a BSN an invitee never received.

The views never contain the subject, the internal case id or another participant's ref.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.log import rfc3339
from ..clock import aware
from ..sealing import Sealer
from ..storage.models import Organisation
from .models import PactAgreement, PactCase, PactParticipant


@dataclass(frozen=True)
class Org:
    """An organisation as case messages and views name it."""

    id: int
    oin: str
    name: str
    type: str
    status: str

    def named(self) -> dict:
        return {"oin": self.oin, "name": self.name, "type": self.type}


def organisations(session: Session, ids) -> dict[int, Org]:
    rows = session.execute(
        select(
            Organisation.id,
            Organisation.oin,
            Organisation.name,
            Organisation.type,
            Organisation.status,
        ).where(Organisation.id.in_(set(ids)))
    ).all()
    return {row.id: Org(*row) for row in rows}


@dataclass
class Details:
    """The sealed part of a case (see the module docstring)."""

    subject: dict = field(default_factory=dict)
    subjects: dict[str, dict] = field(default_factory=dict)
    meeting: dict | None = None
    valid_until: str | None = None

    def as_json(self) -> dict:
        return {
            "subject": self.subject,
            "subjects": self.subjects,
            "meeting": self.meeting,
            "valid_until": self.valid_until,
        }

    @classmethod
    def of(cls, sealer: Sealer, case: PactCase) -> Details:
        if case.details is None:
            return cls()
        data = sealer.open(case.id, case.details_key_version, case.details)
        return cls(
            subject=data.get("subject") or {},
            subjects=data.get("subjects") or {},
            meeting=data.get("meeting"),
            valid_until=data.get("valid_until"),
        )

    def seal_into(self, sealer: Sealer, case: PactCase) -> None:
        case.details_key_version, case.details = sealer.seal(case.id, self.as_json())


def find_own(session: Session, org_id: int, case_ref: str) -> tuple[PactCase, PactParticipant]:
    """The caller's participation holding ``case_ref`` and its case, or None."""
    row = session.execute(
        select(PactCase, PactParticipant)
        .join(PactParticipant, PactParticipant.case_id == PactCase.id)
        .where(PactParticipant.case_ref == case_ref, PactParticipant.org_id == org_id)
    ).first()
    return (row[0], row[1]) if row is not None else None


def participants(session: Session, case_id: str) -> list[PactParticipant]:
    """The case's participants in the order they joined (the convener first)."""
    return list(
        session.scalars(
            select(PactParticipant)
            .where(PactParticipant.case_id == case_id)
            .order_by(PactParticipant.id)
        )
    )


def agreements(session: Session, case_id: str) -> list[PactAgreement]:
    return list(
        session.scalars(
            select(PactAgreement)
            .where(PactAgreement.case_id == case_id, PactAgreement.status != "cancelled")
            .order_by(PactAgreement.no)
        )
    )


def time(moment: datetime | None) -> str | None:
    return rfc3339(aware(moment)) if moment else None


def day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def visible_status(case: PactCase, role: str) -> str:
    """The status a participant sees: an adviser sees ``requested`` until the decision, then
    ``closed`` (never whether the other adviser answered, never the decision, OPEN-10)."""
    if role == "adviser":
        return "closed" if case.status in ("decided", "closed") else "requested"
    return case.status


def summary(case: PactCase, own: PactParticipant) -> dict:
    """A line of ``GET /api/v1/cases``: no subject, no participants."""
    return {
        "case_ref": own.case_ref,
        "kind": case.kind,
        "status": visible_status(case, own.role),
        "role": own.role,
        "created_at": time(case.created_at),
        "updated_at": time(case.updated_at),
    }


def party_of(agreement: PactAgreement, orgs: dict[int, Org]) -> dict:
    if agreement.party_org_id is not None:
        return orgs[agreement.party_org_id].named()
    return {"role": agreement.party_role}


def agreement_view(agreement: PactAgreement, orgs: dict[int, Org]) -> dict:
    return {
        "no": agreement.no,
        "party": party_of(agreement, orgs),
        "action": agreement.action,
        "due_date": day(agreement.due_date),
        "status": agreement.status,
        "done_at": time(agreement.done_at),
    }


def resolved_from(participant: PactParticipant):
    """The role address the participant was invited by (as sent), or None for an OIN."""
    return json.loads(participant.resolved_from) if participant.resolved_from else None


def view(session: Session, sealer: Sealer, case: PactCase, own: PactParticipant) -> dict:
    """``GET /api/v1/cases/{case_ref}`` for the caller's role (design 3.2, 4.1)."""
    everyone = participants(session, case.id)
    listed = agreements(session, case.id) if case.kind == "consultation" else []
    ids = {p.org_id for p in everyone} | {a.party_org_id for a in listed if a.party_org_id}
    if case.regie_org_id:
        ids.add(case.regie_org_id)
    orgs = organisations(session, ids)
    convener = next((p for p in everyone if p.role == "convener"), None)
    base = {
        "case_ref": own.case_ref,
        "kind": case.kind,
        "role": own.role,
        "status": visible_status(case, own.role),
        "created_at": time(case.created_at),
        "updated_at": time(case.updated_at),
        "closed_at": time(case.closed_at),
        "close_reason": case.close_reason if own.role != "adviser" else None,
    }
    if case.kind == "consultation":
        return base | _consultation(sealer, case, own, everyone, listed, orgs, convener)
    if case.kind == "exemption_advice":
        return base | _exemption(sealer, case, own, everyone, orgs, convener)
    return base | {"participants": [orgs[p.org_id].named() | {"role": p.role} for p in everyone]}


def _consultation(sealer, case, own, everyone, listed, orgs, convener) -> dict:
    details = Details.of(sealer, case)
    out: dict = {"meeting": details.meeting}
    invitees = [p for p in everyone if p.role == "invitee"]
    if own.role == "convener":
        out["participants"] = [
            orgs[p.org_id].named()
            | {
                "status": p.status,
                "organisation_status": orgs[p.org_id].status,
                "responded_at": time(p.responded_at),
                "decline_reason": p.decline_reason,
                "exchange_id": p.invitation_exchange_id,
            }
            for p in invitees
        ]
    else:
        out["convener"] = orgs[convener.org_id].named() if convener else None
        out["participants"] = [orgs[p.org_id].named() for p in everyone]
        out["its_status"] = own.status
        out["invitation_exchange_id"] = own.invitation_exchange_id
    if own.role == "convener" or own.status == "accepted":
        out["regie"] = orgs[case.regie_org_id].named() if case.regie_org_id else None
        out["agreements"] = [agreement_view(a, orgs) for a in listed]
        out["next_review_date"] = day(case.next_review_date)
    return out


def _exemption(sealer, case, own, everyone, orgs, convener) -> dict:
    if own.role != "convener":
        return {
            "convener": orgs[convener.org_id].named() if convener else None,
            "its_status": own.status,
            "request_exchange_id": own.invitation_exchange_id,
            "answer_exchange_id": own.answer_exchange_id,
        }
    details = Details.of(sealer, case)
    return {
        "requested_on": day(case.requested_on),
        "participants": [
            orgs[p.org_id].named()
            | {
                "status": p.status,
                "organisation_status": orgs[p.org_id].status,
                "responded_at": time(p.responded_at),
                "exchange_id": p.invitation_exchange_id,
                "answer_exchange_id": p.answer_exchange_id,
                "resolved_from": resolved_from(p),
            }
            for p in everyone
            if p.role == "adviser"
        ],
        "advice": advice(case),
        "decision": case.decision,
        "decided_on": day(case.decided_on),
        "valid_until": details.valid_until,
    }


def advice(case: PactCase) -> dict:
    """The two outcomes leerplicht received; ``none`` for an adviser that did not answer
    (or that there was none) once decided, null before."""
    fallback = "none" if case.decision else None
    return {
        "medical": case.advice_medical or fallback,
        "education": case.advice_education or fallback,
    }
