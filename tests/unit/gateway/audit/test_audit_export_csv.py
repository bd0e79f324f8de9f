"""CSV exports cannot carry a formula into a privacy officer's spreadsheet (CSV injection).

Values such as a web user's NameID or a client id are chosen by other parties; a cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be evaluated by Excel
or LibreOffice when the export is opened.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from gateway.audit.export import csv_lines
from gateway.audit.search import StoredEvent

DANGEROUS = ["=HYPERLINK(\"http://evil.example\",\"klik\")", "+1+1", "-2+3", "@SUM(A1:A9)",
             "\t=1+1", "\r=1+1"]


def event(user: str) -> StoredEvent:
    document = {"seq": 1, "at": "2026-01-01T00:00:00.000000Z", "action": "audit.search",
                "actor": {"org": "00000001001234567000", "client_id": user, "user": user},
                "decision": "allowed", "reason": user, "fields_forwarded": [user, "ok"]}
    return StoredEvent(1, json.dumps(document, separators=(",", ":")), "0" * 64)


@pytest.mark.parametrize("value", DANGEROUS)
def test_no_cell_starts_a_formula(value):
    text = "".join(csv_lines([event(value)], operator=False))
    rows = list(csv.reader(io.StringIO(text)))
    header, row = rows[0], rows[1]
    cells = dict(zip(header, row, strict=True))
    for column in ("actor.user", "actor.client_id", "reason"):
        assert cells[column] == "'" + value, column
    assert cells["fields_forwarded"] == "'" + value + ";ok"
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in row)


def test_ordinary_values_are_unchanged():
    text = "".join(csv_lines([event("m.bakker@regenboog.example")], operator=False))
    row = list(csv.reader(io.StringIO(text)))[1]
    assert "m.bakker@regenboog.example" in row and "2026-01-01T00:00:00.000000Z" in row
