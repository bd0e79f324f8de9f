"""Export formats of the audit log (API.md section 8), one event at a time.

JSON Lines: each line is one event exactly as the API returns it (canonical JSON + ``hash``).
CSV: a header row of the event fields, nested fields flattened with dots
(``actor.org``, ``legal_basis.citation``), lists joined with ``;``, null as an empty cell.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from .search import event_json

CSV_COLUMNS: tuple[str, ...] = (
    "seq",
    "at",
    "action",
    "actor.org",
    "actor.client_id",
    "actor.user",
    "exchange_id",
    "message_type",
    "sender",
    "recipient",
    "purpose",
    "legal_basis.type",
    "legal_basis.citation",
    "legal_basis.consent_id",
    "consent_id",
    "decision",
    "reason",
    "fields_forwarded",
    "fields_dropped",
    "fields_generalised",
    "subject_ref",
    "fsc_transaction_id",
    "prev_hash",
    "hash",
)
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


def cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(cell(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def flatten(event: dict) -> list[str]:
    row = []
    for column in CSV_COLUMNS:
        value = event
        for part in column.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        row.append(cell(value))
    return row


def _csv_line(values: Iterable[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()


def csv_lines(events: Iterable[tuple[str, str]]) -> Iterator[str]:
    yield _csv_line(CSV_COLUMNS)
    for canonical, digest in events:
        event = json.loads(canonical)
        event["hash"] = digest
        yield _csv_line(flatten(event))


def jsonl_lines(events: Iterable[tuple[str, str]]) -> Iterator[str]:
    for canonical, digest in events:
        yield event_json(canonical, digest) + "\n"


def lines(fmt: str, events: Iterable[tuple[str, str]]) -> Iterator[str]:
    return csv_lines(events) if fmt == "csv" else jsonl_lines(events)
