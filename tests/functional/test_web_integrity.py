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
