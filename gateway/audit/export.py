"""Export formats of the audit log (API.md section 8), one event at a time.

JSON Lines: each line is one event exactly as the API returns it to that reader (the hashed
JSON plus the view members, :mod:`gateway.audit.search`).
CSV: a header row of the event fields, nested fields flattened with dots
(``actor.org``, ``legal_basis.citation``), lists joined with ``;``, null as an empty cell.
A cell that a spreadsheet would read as a formula (it starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return; some values, such as a web user's NameID or a client id, are
chosen by others) is prefixed with ``'`` (OWASP "CSV injection"), so opening an export never
runs anything. The CSV is for reading; hashes are recomputed from the JSON Lines export.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from .search import StoredEvent

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
    "subject_commitment",
    "subject_opening",
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


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(text: str) -> str:
    """``text`` as a spreadsheet shows it without evaluating it."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def flatten(event: dict) -> list[str]:
    row = []
    for column in CSV_COLUMNS:
        value = event
        for part in column.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        row.append(inert(cell(value)))
    return row


def _csv_line(values: Iterable[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()


def csv_lines(events: Iterable[StoredEvent], operator: bool) -> Iterator[str]:
    yield _csv_line(CSV_COLUMNS)
    for stored in events:
        yield _csv_line(flatten(stored.view_dict(operator)))


def jsonl_lines(events: Iterable[StoredEvent], operator: bool) -> Iterator[str]:
    for stored in events:
        yield stored.view(operator) + "\n"


def lines(fmt: str, events: Iterable[StoredEvent], operator: bool = False) -> Iterator[str]:
    """The export for a reader; ``operator`` adds the operator-only members."""
    return csv_lines(events, operator) if fmt == "csv" else jsonl_lines(events, operator)
