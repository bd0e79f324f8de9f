"""``gateway retention purge`` through click's runner on a real SQLite database."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from gateway.audit.log import AuditEvent, AuditLog
from gateway.audit.models import AuditEventRow
from gateway.cli import main
from gateway.config import Settings
from gateway.storage.database import Database

LONG_AGO = datetime(2016, 2, 1, 12, tzinfo=UTC)


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


def old_event(db):
    """An event about a child ten years ago: past every shipped term."""
    with db.write_session() as session:
        AuditLog().append(session, AuditEvent("audit.subject_report", "allowed",
                                              subject_ref="a-child"), LONG_AGO)


def refs(db):
    with db.session() as session:
        return session.scalars(select(AuditEventRow.subject_ref).order_by(AuditEventRow.seq)).all()


def reasons(db):
    with db.session() as session:
        return [json.loads(c)["reason"] for c in session.scalars(
            select(AuditEventRow.canonical).where(AuditEventRow.action == "admin.retention.purge"))]


def test_a_dry_run_prints_what_is_due_and_changes_nothing(run, db):
    old_event(db)
    result = run("retention", "purge", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "audit child references due: 1" in result.output
    assert refs(db) == ["a-child"] and reasons(db) == []


def test_a_run_shreds_prints_and_records_with_the_reason(run, db):
    old_event(db)
    result = run("retention", "purge", "--reason", "dagelijkse run")
    assert result.exit_code == 0, result.output
    assert "audit child references shredded: 1" in result.output
    assert "consents erased: 0" in result.output
    assert refs(db)[0] is None
    [reason] = reasons(db)
    assert "audit_events=1" in reason and reason.endswith("; dagelijkse run")


def test_now_must_be_an_rfc3339_time(run, db):
    result = run("retention", "purge", "--now", "next year")
    assert result.exit_code == 2 and "--now" in result.output


def test_now_is_refused_in_production(run, monkeypatch):
    monkeypatch.setattr(Settings, "is_production", property(lambda self: True))
    result = run("retention", "purge", "--now", "2040-01-01T00:00:00Z")
    assert result.exit_code == 2 and "refused in production" in result.output
