"""``gateway outbox list|retry`` and ``gateway worker --once`` through the real CLI."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from gateway.audit.models import AuditEventRow
from gateway.cli import main
from gateway.clock import system_clock
from gateway.delivery.outbox import Outbox
from gateway.delivery.recipient import serve
from gateway.exchange.models import Message
from gateway.keys import KeyStore
from tests import delivery_helpers as dh
from tests import exchange_helpers as ex
from tests.e2e.conftest import free_port


@pytest.fixture
def recipient():
    port = free_port()
    server = serve(port, None)
    yield dh.RecipientProcess(port, None)
    server.shutdown()
    server.server_close()


@pytest.fixture
def seeded(database_url, keys_dir, recipient, monkeypatch):
    monkeypatch.setenv("GATEWAY_DATABASE_URL", database_url)
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(keys_dir))
    monkeypatch.setenv("GATEWAY_LOG_LEVEL", "WARNING")
    monkeypatch.delenv("GATEWAY_ENV", raising=False)
    seeded = dh.seed(database_url, KeyStore(keys_dir, allow_generate=False), recipient.delivery_url)
    yield seeded
    seeded.db.dispose()


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def dead_letter(seeded, message_id=None) -> str:
    message_id = message_id or dh.store(seeded)
    outbox = Outbox(seeded.db, seeded.audit)
    [claim] = [c for c in outbox.claim(50, system_clock(), timedelta(seconds=30))
               if c.id == message_id]
    assert outbox.failed(claim, system_clock(), "http 503", None)
    return message_id


def row(seeded, message_id) -> Message:
    with seeded.db.session() as session:
        return session.scalars(select(Message).where(Message.id == message_id)).one()


def audited(seeded, action) -> list[dict]:
    with seeded.db.session() as session:
        rows = session.scalars(select(AuditEventRow).where(AuditEventRow.action == action))
        return [json.loads(r.canonical) for r in rows]


def test_list_shows_pending_and_dead_letters_without_payload(seeded):
    pending = dh.store(seeded)
    dead = dead_letter(seeded)
    listed = json.loads(run("outbox", "list", "--json").output)
    assert [r["id"] for r in listed] == [pending, dead]
    assert listed[1]["status"] == "dead_lettered" and listed[1]["last_error"] == "http 503"
    assert listed[1]["attempts"] == 1 and listed[1]["push"] is True
    assert listed[1]["recipient"] == ex.LEERPLICHT and listed[1]["payload_erased"] is False
    text = run("outbox", "list").output
    assert "geheim" not in text and dh.PAYLOAD["remarks"] not in text and ex.BSN not in text
    only_dead = json.loads(run("outbox", "list", "--status", "dead_lettered", "--json").output)
    assert [r["id"] for r in only_dead] == [dead]


def test_retry_one_dead_letter_is_audited_and_delivered(seeded, recipient):
    dead = dead_letter(seeded)
    result = run("outbox", "retry", "--id", dead)
    assert result.exit_code == 0, result.output
    message = row(seeded, dead)
    assert (message.status, message.attempts, message.dead_lettered_at) == ("accepted", 0, None)
    [event] = audited(seeded, "admin.outbox.retry")
    assert event["exchange_id"] == dead and event["decision"] == "allowed"
    assert event["actor"] == {"org": ex.OPERATOR, "client_id": None, "user": None}
    assert run("worker", "--once").exit_code == 0
    assert row(seeded, dead).status == "delivered"
    assert recipient.stats()["ids"] == [dead]


def test_retry_all_dead_skips_erased_payloads(seeded):
    dead = [dead_letter(seeded) for _ in range(3)]
    with seeded.db.session() as session:  # as the retention purge leaves one
        session.execute(update(Message).where(Message.id == dead[0]).values(ciphertext=None))
    result = run("outbox", "retry", "--all-dead")
    assert "queued 2" in result.output and "skipped 1" in result.output
    assert [row(seeded, i).status for i in dead] == ["dead_lettered", "accepted", "accepted"]
    assert sorted(e["exchange_id"] for e in audited(seeded, "admin.outbox.retry")) == sorted(
        dead[1:]
    )


def test_retry_refusals(seeded):
    delivered = dh.store(seeded)
    with seeded.db.session() as session:
        session.execute(update(Message).where(Message.id == delivered).values(status="delivered"))
    erased = dead_letter(seeded)
    with seeded.db.session() as session:
        session.execute(update(Message).where(Message.id == erased).values(ciphertext=None))
    for args, code in (
        (["--id", "00000000-0000-4000-8000-000000000000"], "not_found"),
        (["--id", delivered], "not_retryable"),
        (["--id", erased], "payload_erased"),
    ):
        result = CliRunner().invoke(main, ["outbox", "retry", *args])
        assert result.exit_code == 1 and code in result.output, result.output
    for args in ([], ["--id", erased, "--all-dead"]):
        assert CliRunner().invoke(main, ["outbox", "retry", *args]).exit_code == 2
    assert audited(seeded, "admin.outbox.retry") == []


def test_worker_once_delivers_everything_due(seeded, recipient):
    ids = [dh.store(seeded) for _ in range(5)]
    result = run("worker", "--once", "--batch", "2")
    assert result.exit_code == 0, result.output
    assert sorted(recipient.stats()["ids"]) == sorted(ids)
    assert {row(seeded, i).status for i in ids} == {"delivered"}


def test_worker_refuses_a_missing_client_certificate(seeded, monkeypatch, tmp_path):
    monkeypatch.setenv("GATEWAY_DELIVERY_CLIENT_CERT", str(tmp_path / "missing.pem"))
    result = CliRunner().invoke(main, ["worker", "--once"])
    assert result.exit_code == 1 and "GATEWAY_DELIVERY_CLIENT_CERT" in result.output
