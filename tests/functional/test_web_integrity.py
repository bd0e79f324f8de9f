"""The audit page's integrity banner: verified, or broken at the first altered sequence."""

from __future__ import annotations

from sqlalchemy import update

from gateway.audit.models import AuditEventRow
from gateway.web.auditdesk import forget_integrity
from tests.saml_helpers import devidp_login, gateway_app


def test_the_banner_names_the_first_altered_event(keys_dir, tmp_path):
    app = gateway_app(tmp_path, keys_dir)
    try:
        client = app.test_client()
        devidp_login(client, "privacy-operator")
        forget_integrity()
        body = client.get("/ui/audit").get_data(as_text=True)
        assert "Integriteit gecontroleerd" in body
        with app.extensions["gateway"].db.session() as session:
            session.execute(
                update(AuditEventRow).where(AuditEventRow.seq == 2).values(
                    canonical=AuditEventRow.canonical + " ")
            )
        forget_integrity()
        body = client.get("/ui/audit").get_data(as_text=True)
        assert "Verbroken bij volgnummer 2" in body
        assert 'role="alert"' in body
    finally:
        forget_integrity()
        app.extensions["gateway"].db.dispose()


def copy_database(source, target) -> None:
    """SQLite's online backup (a file copy would miss what is still in the WAL)."""
    import sqlite3

    with sqlite3.connect(source) as origin, sqlite3.connect(target) as copy:
        origin.backup(copy)


def test_the_banner_says_in_dutch_that_a_backup_was_restored(keys_dir, tmp_path):
    """A database restore below a published checkpoint (issue 19) is a gap, not an altered
    event: the banner says so instead of "Verbroken bij volgnummer None"."""
    import shutil

    from sqlalchemy.engine import make_url

    keys = tmp_path / "keys"
    shutil.copytree(keys_dir, keys)  # the witness sits beside these keys
    app = gateway_app(tmp_path, keys)
    database = make_url(app.extensions["gateway"].db.url).database
    try:
        client = app.test_client()
        devidp_login(client, "privacy-operator")
        forget_integrity()
        assert "Integriteit gecontroleerd" in client.get("/ui/audit").get_data(as_text=True)
        copy_database(database, tmp_path / "backup.db")  # the backup, below what comes next
        for _ in range(3):
            client.get("/ui/audit")  # more events, each an audited read
        forget_integrity()
        assert "Integriteit gecontroleerd" in client.get("/ui/audit").get_data(as_text=True)
        app.extensions["gateway"].db.dispose()
        copy_database(tmp_path / "backup.db", database)  # the restore
        client = app.test_client()  # web sessions live in the database: the restore ended it
        devidp_login(client, "privacy-operator")
        forget_integrity()
        body = client.get("/ui/audit").get_data(as_text=True)
        assert "Teruggezet: de auditlog telt" in body and "back-up" in body
        assert "volgnummer None" not in body and 'role="alert"' in body
    finally:
        forget_integrity()
        app.extensions["gateway"].db.dispose()
