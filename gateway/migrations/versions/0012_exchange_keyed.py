"""Exchanges (API.md section 13 rule 1): one recipient per transaction id; keyed storage.

Revision ID: 0012_exchange_keyed
Revises: 0010_audit_views (there is no 0011: consents needed no schema change)

- ``exchange_transactions``: the one recipient organisation each sender's
  ``Fsc-Transaction-Id`` was passed on to, primary key (sender, id). Filled from the stored
  messages: an id already passed to several recipients stays bound to the first of them, so
  it reaches no further ones.
- ``idempotency_keys.request_hash`` becomes ``<version>:<HMAC-SHA256>`` under the master
  secret's ``idempotency`` key (64 -> 80 characters), and ``messages.pep_link`` holds the
  link tag sealed under its ``pep-link`` key (gateway.pep.sealing) instead of the raw tag.
  Converting the existing rows needs the master secret, read as ``gateway run`` reads it
  (``GATEWAY_KEYS_DIR``, else ``GATEWAY_INSTANCE_DIR``/keys). Without it: idempotency rows
  are dropped (a key is promised for 24 hours only; a sender's retry of a send accepted just
  before the upgrade would then be stored again), and raw link tags refuse the upgrade,
  naming the setting, rather than be lost (their messages could no longer be replied to).
  Downgrading keeps converted values: an older release reads neither.
"""

import hashlib
import hmac
import os
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0012_exchange_keyed"
down_revision = "0010_audit_views"
branch_labels = None
depends_on = None

RAW_TAG_BYTES = 32


def upgrade() -> None:
    op.create_table(
        "exchange_transactions",
        sa.Column("sender_org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("fsc_transaction_id", sa.String(36), nullable=False),
        sa.Column(
            "recipient_org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sender_org_id", "fsc_transaction_id"),
    )
    op.execute(
        "INSERT INTO exchange_transactions "
        "(sender_org_id, fsc_transaction_id, recipient_org_id, created_at) "
        "SELECT sender_org_id, fsc_transaction_id, recipient_org_id, created_at FROM messages "
        "WHERE seq IN (SELECT MIN(seq) FROM messages GROUP BY sender_org_id, fsc_transaction_id)"
    )
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.alter_column(
            "request_hash", existing_type=sa.String(64), type_=sa.String(80), nullable=False
        )
    bind = op.get_bind()
    _convert_idempotency(bind)
    _seal_link_tags(bind)


def downgrade() -> None:
    op.execute("DELETE FROM idempotency_keys")
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.alter_column(
            "request_hash", existing_type=sa.String(80), type_=sa.String(64), nullable=False
        )
    op.drop_table("exchange_transactions")


def _keyring():
    """The master secrets as ``gateway run`` finds them, or None when there are none."""
    from gateway.config import ConfigurationError, pkcs11_from_env
    from gateway.keys import KeyStore

    instance = Path(os.environ.get("GATEWAY_INSTANCE_DIR", "instance"))
    directory = Path(os.environ.get("GATEWAY_KEYS_DIR") or instance / "keys")
    if not (directory / "master").is_dir():
        return None
    try:
        # signing keys on an HSM (GATEWAY_PKCS11_*) are not files: without the settings the
        # store would miss them and this upgrade would think there were no keys at all
        store = KeyStore(directory, allow_generate=False, pkcs11=pkcs11_from_env(os.environ))
        return store.keyring
    except (ConfigurationError, OSError, ValueError):
        return None


def _convert_idempotency(bind) -> None:
    """``HMAC(K, digest)`` of each stored bare SHA-256 (the digest the new code computes too)."""
    rows = bind.execute(sa.text("SELECT id, request_hash FROM idempotency_keys")).all()
    if not rows:
        return
    keyring = _keyring()
    if keyring is None:
        bind.execute(sa.text("DELETE FROM idempotency_keys"))
        return
    version = keyring.current_version
    key = keyring.derive("idempotency", version)
    for row_id, bare in rows:
        try:
            digest = bytes.fromhex(bare)
        except ValueError:
            continue  # already keyed (a converted row has a "<version>:" prefix)
        keyed = f"{version}:{hmac.new(key, digest, hashlib.sha256).hexdigest()}"
        bind.execute(
            sa.text("UPDATE idempotency_keys SET request_hash = :h WHERE id = :i"),
            {"h": keyed, "i": row_id},
        )


def _seal_link_tags(bind) -> None:
    rows = [
        (message_id, bytes(link))
        for message_id, link in bind.execute(
            sa.text("SELECT id, pep_link FROM messages WHERE pep_link IS NOT NULL")
        ).all()
        if len(link) == RAW_TAG_BYTES
    ]
    if not rows:
        return
    keyring = _keyring()
    if keyring is None:
        raise RuntimeError(
            "messages hold raw polymorphic link tags, which this upgrade seals under the "
            "master secret: run `gateway db upgrade` where GATEWAY_KEYS_DIR holds the keys"
        )
    from gateway.pep.sealing import LinkSealer
    from pseudonymise import LinkTag

    sealer = LinkSealer(keyring)
    for message_id, link in rows:
        bind.execute(
            sa.text("UPDATE messages SET pep_link = :s WHERE id = :i"),
            {"s": sealer.seal(message_id, LinkTag(link)), "i": message_id},
        )
