"""Which part of a sent report becomes a monitoring fact (written with the message)."""

from __future__ import annotations

from datetime import date


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
        }
    if message_type == "absence_report":
        return {
            "kind": "absence",
            "category": payload["absence_type"],
            "since_date": date.fromisoformat(payload["start_date"]),
            "placed_date": None,
        }
    return None
