"""Migration 0012 converts what earlier releases kept about a child into keyed values.

Rows are written as the previous release wrote them (a bare SHA-256 of the body, a raw link
tag, one transaction id passed to two recipients), then the migration runs with the master
secret found through ``GATEWAY_KEYS_DIR``, as ``gateway db upgrade`` would.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime, timedelta

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from gateway.exchange import idempotency
from gateway.keys import KeyStore
from gateway.pep.sealing import LinkSealer
from gateway.storage import migrate
from gateway.storage.database import Database
from pseudonymise import LinkTag
from tests import exchange_helpers as ex

REVISION = "0012_exchange_keyed"
NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
TAG = bytes(range(32))
BODY = {"message_type": "absence_report", "recipient": ex.SWV, "subject": {"bsn": ex.BSN},
        "payload": {"remarks": "x"}}
SHARED_ID = "0190c4f5-8c6b-7cc0-8000-0000000000aa"


def previous_revision() -> str:
    return ScriptDirectory.from_config(migrate._config()).get_revision(REVISION).down_revision


@pytest.fixture
def legacy(tmp_path):
    """A database one revision before 0012, holding rows as the previous release wrote them."""
    db = Database(f"sqlite:///{tmp_path / 'legacy.db'}")
    migrate.upgrade(db.engine, previous_revision())
    with db.engine.begin() as connection:
        for number, (oin, name, type_) in enumerate(ex.ORGANISATIONS[:3], start=1):
            connection.execute(text(
                "INSERT INTO organisations (id, oin, name, type, status, created_at, updated_at) "
                "VALUES (:i, :o, :n, :t, 'active', :now, :now)"),
                {"i": number, "o": oin, "n": name, "t": type_, "now": NOW})
        for seq, (message_id, recipient, link) in enumerate(
            [("m-1", 2, TAG), ("m-2", 3, None)], start=1
        ):
            connection.execute(text(
                "INSERT INTO messages (seq, id, message_type, sender_org_id, recipient_org_id, "
                "purpose, legal_basis, subject_ref, status, created_at, fsc_transaction_id, "
                "key_version, retain_until, pep_link) VALUES (:seq, :id, 'absence_report', 1, "
                ":r, 'p', '{}', 'ref', 'accepted', :now, :fsc, 1, :until, :link)"),
                {"seq": seq, "id": message_id, "r": recipient, "now": NOW, "fsc": SHARED_ID,
                 "until": NOW + timedelta(days=30), "link": link})
        canonical = json.dumps(BODY, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        connection.execute(text(
            "INSERT INTO idempotency_keys (org_id, key, request_hash, response, created_at, "
            "expires_at) VALUES (1, 'k-1', :h, '{}', :now, :until)"),
            {"h": hashlib.sha256(canonical.encode()).hexdigest(), "now": NOW,
             "until": NOW + timedelta(hours=24)})
    yield db
    db.dispose()


def test_rows_are_converted_with_the_master_secret(legacy, keys_dir, monkeypatch):
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(keys_dir))
    migrate.upgrade(legacy.engine)
    keyring = KeyStore(keys_dir, allow_generate=False).keyring
    with legacy.engine.connect() as connection:
        [stored] = connection.execute(text("SELECT request_hash FROM idempotency_keys")).scalars()
        [sealed] = connection.execute(
            text("SELECT pep_link FROM messages WHERE pep_link IS NOT NULL")).scalars()
        bound = connection.execute(text(
            "SELECT sender_org_id, fsc_transaction_id, recipient_org_id FROM exchange_transactions"
        )).all()
    assert idempotency.RequestHash(keyring, BODY).matches(stored)
    assert not idempotency.RequestHash(keyring, {**BODY, "payload": {}}).matches(stored)
    assert bytes(sealed) != TAG and TAG not in bytes(sealed)
    assert LinkSealer(keyring).open("m-1", bytes(sealed)) == LinkTag(TAG)
    # an id already passed to two recipients stays bound to the first: it reaches no third
    assert bound == [(1, SHARED_ID, 2)]


def test_without_the_master_secret_raw_tags_refuse_the_upgrade(legacy, tmp_path, monkeypatch):
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(tmp_path / "no-keys"))
    with pytest.raises(RuntimeError, match="GATEWAY_KEYS_DIR"):
        migrate.upgrade(legacy.engine)
    assert migrate.current_revision(legacy.engine) == previous_revision()


def test_without_the_master_secret_idempotency_rows_are_dropped(legacy, tmp_path, monkeypatch):
    with legacy.engine.begin() as connection:
        connection.execute(text("UPDATE messages SET pep_link = NULL"))
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(tmp_path / "no-keys"))
    migrate.upgrade(legacy.engine)
    with legacy.engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM idempotency_keys")).scalar() == 0
    assert os.environ["GATEWAY_KEYS_DIR"].endswith("no-keys")
