"""The daily ``gateway pact run`` (docs/pact-workflows.md 5.4): consultations whose consent
ended are closed first (so no reminder goes out under them), one ``admin.pact.run`` event with
the counts and no child, a dry run changes and records nothing, and the CLI refuses ``--now``
in production exactly as ``gateway retention purge --now``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update
from test_escalation import LEK_LP, LEK_SWV, RUNNER, TODAY, build_world, days, homebound, local
from test_reminders import CASE, CONSENT, consultation

from gateway.audit.models import AuditEventRow
from gateway.cli import main
from gateway.consents.models import ConsentRow
from gateway.pact.models import PactCase

REPO = Path(__file__).resolve().parents[4]


@pytest.fixture
def world(database_url, keys_dir):
    built = build_world(database_url, keys_dir)
    consultation(built, built.subject_ref(), built.clock["now"])
    yield built
    built.db.dispose()


def run_events(world) -> list[dict]:
    with world.db.session() as session:
        rows = session.execute(
            select(AuditEventRow.canonical, AuditEventRow.subject_ref)
            .where(AuditEventRow.action == "admin.pact.run")
            .order_by(AuditEventRow.seq)
        ).all()
    return [dict(json.loads(canonical), subject_ref=ref) for canonical, ref in rows]


def case_state(world) -> tuple:
    with world.db.session() as session:
        case = session.get(PactCase, CASE)
        return case.status, case.close_reason


def test_one_event_with_the_counts_and_no_child(world):
    world.send(LEK_LP, "homebound_report", LEK_SWV, homebound(TODAY - days(42)), local(TODAY, 9))
    report = world.run.run(RUNNER, local(TODAY + days(14)))
    assert report.counts() == {
        "cases_closed": 0,
        "escalations_opened": 1,
        "escalations_delivered": 0,
        "escalations_closed": 0,
        "escalations_unconfigured": 0,
        "reminders_due_today": 1,
        "reminders_overdue": 1,
        "reminders_party_suspended": 0,
        "reminders_review_due": 0,
    }
    [event] = run_events(world)
    assert event["reason"] == (
        "cases_closed=0 escalations_opened=1 escalations_delivered=0 escalations_closed=0 "
        "escalations_unconfigured=0 reminders_due_today=1 reminders_overdue=1 "
        "reminders_party_suspended=0 reminders_review_due=0 as of 2027-03-07T05:00:00.000000Z"
    )
    assert event["actor"] == {"org": None, "client_id": None, "user": "test"}
    assert event["subject_commitment"] is None
    assert event["subject_ref"] is None
    assert event["decision"] == "allowed"
    # a run with nothing to do is on record too
    world.run.run(RUNNER, local(TODAY + days(14), 7))
    assert len(run_events(world)) == 2


def test_a_dry_run_counts_and_changes_nothing(world):
    world.send(LEK_LP, "homebound_report", LEK_SWV, homebound(TODAY - days(42)), local(TODAY, 9))
    with world.db.write_session() as session:
        session.execute(update(ConsentRow).values(withdrawn_at=local(TODAY, 8)))
    dry = world.run.run(RUNNER, local(TODAY + days(14)), dry_run=True)
    assert (dry.cases_closed, dry.escalations.opened) == (1, 1)
    assert run_events(world) == []
    assert case_state(world) == ("agreed", None)
    with world.db.session() as session:
        assert session.scalars(select(PactCase.kind)).all() == ["consultation"]


@pytest.mark.parametrize(
    "ended, reason", [("withdrawn", "consent_withdrawn"), ("expired", "consent_expired")]
)
def test_a_consultation_whose_consent_ended_is_closed_before_the_reminders(world, ended, reason):
    with world.db.write_session() as session:
        values = (
            {"withdrawn_at": local(TODAY + days(1))}
            if ended == "withdrawn"
            else {"valid_until": TODAY + days(10)}
        )
        session.execute(update(ConsentRow).where(ConsentRow.id == CONSENT).values(**values))
    report = world.run.run(RUNNER, local(TODAY + days(14)))
    assert report.cases_closed == 1
    assert sum(report.reminders.values()) == 0
    assert case_state(world) == ("closed", reason)
    with world.db.session() as session:
        [close] = session.execute(
            select(AuditEventRow.canonical, AuditEventRow.case_id).where(
                AuditEventRow.action == "case.close"
            )
        ).all()
    assert json.loads(close[0])["reason"] == reason and close[1] == CASE
    assert world.run.run(RUNNER, local(TODAY + days(15))).cases_closed == 0


def test_a_consent_still_valid_on_its_last_day_keeps_the_case(world):
    with world.db.write_session() as session:
        session.execute(update(ConsentRow).values(valid_until=TODAY + days(14)))
    assert world.run.run(RUNNER, local(TODAY + days(14))).cases_closed == 0
    assert case_state(world) == ("agreed", None)


def test_the_cli_refuses_now_in_production(tmp_path):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GATEWAY_ENV": "production",
        "PYTHONPATH": str(REPO),
        "HOME": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "pact", "run", "--now", "2027-03-01T05:00:00+01:00"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--now is refused in production" in result.stderr


def test_the_cli_runs_as_of_now_and_prints_the_counts(sqlite_url, keys_dir, monkeypatch):
    monkeypatch.setenv("GATEWAY_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(keys_dir))
    monkeypatch.delenv("GATEWAY_ENV", raising=False)
    result = CliRunner().invoke(
        main, ["pact", "run", "--now", "2027-03-01T05:00:00+01:00"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "escalations opened: 0" in result.output
    assert "reminders due today: 0" in result.output
    bad = CliRunner().invoke(main, ["pact", "run", "--now", "tomorrow"])
    assert bad.exit_code == 2 and "--now" in bad.output
