"""Which part of a sent report becomes a monitoring fact (written with the message)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert
from sqlalchemy.orm import Session

from ..exchange.observers import AcceptedSend
from ..storage import direct
from .models import MonitoringFact

_INSERT_FACT = insert(MonitoringFact.__table__).inline()  # no generated key read back
"""A Core insert on the table, built once (the ORM's bulk-insert path cost about 0.5 ms a
statement on the send path under cProfile, issue 23)."""


def fact_values(message_type: str, payload: dict) -> dict | None:
    """The fact columns of a validated payload, or None for message types not monitored."""
    if message_type == "homebound_report":
        return {
            "kind": "homebound",
            "category": payload["category"],
            "since_date": date.fromisoformat(payload["since_date"]),
            "placed_date": date.fromisoformat(payload["placed_date"])
            if payload.get("placed_date")
            else None,
            **_child_categories(payload),
        }
    if message_type == "absence_report":
        return {
            "kind": "absence",
            "category": payload["absence_type"],
            "since_date": date.fromisoformat(payload["start_date"]),
            "placed_date": None,
            **_child_categories(payload),
        }
    return None


def _child_categories(payload: dict) -> dict:
    """Sector and birth year: what an escalation tells its holder (design 5.2), kept here
    because the report's payload is erased once its recipient acknowledges it."""
    born = payload.get("date_of_birth")
    return {
        "education_sector": payload.get("education_sector"),
        "birth_year": int(born[:4]) if born else None,
    }


class FactRecorder:
    """Keeps the monitoring fact of every accepted report, written with the message
    (a :class:`gateway.exchange.observers.SendObserver`)."""

    def accepted(self, session: Session, send: AcceptedSend) -> None:
        facts = fact_values(send.message_type, send.payload)
        if facts is None:
            return
        direct.execute(
            session,
            _INSERT_FACT,
            {
                **facts,
                "message_id": send.message_id,
                "subject_ref": send.subject_ref,
                "sender_org_id": send.sender_org_id,
                "recipient_org_id": send.recipient_org_id,
                "reported_at": send.at,
            },
        )
