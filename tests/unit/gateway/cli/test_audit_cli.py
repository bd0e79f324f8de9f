"""``gateway audit verify|export|checkpoint`` through click's runner on a real SQLite log."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from gateway.audit.log import AuditEvent, AuditLog
from gateway.cli import main
from gateway.storage.database import Database


@pytest.fixture
def run(sqlite_url, keys_dir, monkeypatch):
    monkeypatch.setenv("GATEWAY_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(keys_dir))
    monkeypatch.delenv("GATEWAY_ENV", raising=False)
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


@pytest.fixture
def db(sqlite_url):
    database = Database(sqlite_url)
    yield database
    database.dispose()


def append(db, count, when=datetime(2026, 2, 1, 12, tzinfo=UTC), **fields):
    with db.write_session() as session:
        for _ in range(count):
            AuditLog().append(session, AuditEvent(action="exchange.send", decision="allowed",
                                                  **fields), when)


def test_verify_records_itself_and_reports_valid(run, db):
    append(db, 5)
    result = run("audit", "verify")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["valid"] and report["entries"] == 6  # five events and this verify
    assert report["checkpoint"]["tree_size"] == 6


def test_verify_exits_non_zero_naming_the_seq(run, db):
    append(db, 5)
    with db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE audit_events SET hash = 'x' WHERE seq = 3")
    result = run("audit", "verify", "--no-record")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["first_invalid_seq"] == 3
    assert "first invalid seq 3" in result.stderr
    refused = run("audit", "checkpoint")
    assert refused.exit_code != 0 and "audit entry 3" in refused.output


def test_export_with_a_time_window(run, db, tmp_path):
    append(db, 2, datetime(2026, 2, 1, 12, tzinfo=UTC), sender="00000001001234567000")
    append(db, 3, datetime(2026, 3, 1, 12, tzinfo=UTC), sender="00000001001234567000")
    out = tmp_path / "feb.jsonl"
    result = run("audit", "export", "--format", "jsonl", "--from", "2026-02-01T00:00:00Z",
                 "--to", "2026-03-01T00:00:00Z", "--out", str(out))
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["seq"] for e in events] == [1, 2] and "exported 2 event(s)" in result.stderr
    csv_out = run("audit", "export", "--format", "csv")
    lines = csv_out.stdout.splitlines()
    assert lines[0].startswith("seq,at,action,") and len(lines) == 1 + 7  # header, 5, 2 exports
    assert run("audit", "export", "--format", "csv", "--from", "today").exit_code != 0


def test_checkpoint_signs_the_head(run, db):
    assert "empty" in run("audit", "checkpoint").output
    append(db, 4)
    assert "checkpoint at tree size 4" in run("audit", "checkpoint").output
