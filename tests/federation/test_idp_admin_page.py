"""``/ui/idps``: an operator's administrator registers, suspends and refreshes IdPs (issue 21).

A gateway in development (its built-in IdP signs the administrator in) on its own database;
the IdP registered here is the pysaml2 test IdP of ``tests/saml_helpers.py``, its metadata
pasted into the form. Every change is an ``admin.idp.*`` audit event naming the IdP's key.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from gateway.audit.models import AuditEventRow
from gateway.saml.models import SamlIdpRow
from gateway.storage.models import utcnow
from gateway.web.models import WebSessionRow
from tests.saml_helpers import TestIdp, devidp_login, gateway_app


@pytest.fixture(scope="module")
def app(tmp_path_factory, keys_dir):
    app = gateway_app(tmp_path_factory.mktemp("idp-admin"), keys_dir)
    yield app
    app.extensions["gateway"].db.dispose()


@pytest.fixture(scope="module")
def test_idp(tmp_path_factory):
    return TestIdp(tmp_path_factory.mktemp("idp"))


@pytest.fixture(scope="module")
def admin(app):
    client = app.test_client()
    assert devidp_login(client, "admin-operator").status_code == 303
    return client


def csrf(client, path: str = "/ui/idps") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def idp_events(app) -> list[tuple[str, str, str | None]]:
    """(action, decision, the IdP's key) of every ``admin.idp.*`` event, oldest first."""
    with app.extensions["gateway"].db.session() as session:
        rows = session.scalars(
            select(AuditEventRow)
            .where(AuditEventRow.action.like("admin.idp.%"))
            .order_by(AuditEventRow.seq)
        ).all()
        return [(r.action, r.decision, r.steps) for r in rows]


def register(client, test_idp, key="school-idp", **fields):
    data = {
        "csrf_token": csrf(client),
        "key": key,
        "name": "Inlogdienst Scholengroep",
        "profile": "oin",
        "metadata_xml": test_idp.metadata(),
        "binding": "post",
        "organisations": "00000001001234567000",
        **fields,
    }
    return client.post("/ui/idps", data=data)


def test_an_administrator_registers_an_idp_that_then_appears_on_the_discovery_page(
    app, admin, test_idp
):
    empty = admin.get("/ui/idps")
    assert empty.status_code == 200
    assert "nog geen identiteitsproviders" in empty.get_data(as_text=True)

    answer = register(admin, test_idp)

    assert answer.status_code == 303
    page = admin.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Identiteitsprovider school-idp is geregistreerd." in page
    assert "Inlogdienst Scholengroep" in page and TestIdp.ENTITY_ID in page
    with app.extensions["gateway"].db.session() as session:
        row = session.get(SamlIdpRow, "school-idp")
        assert (row.profile, row.entity_id, row.organisations, row.status) == (
            "oin", TestIdp.ENTITY_ID, ["00000001001234567000"], "active")
    assert idp_events(app)[-1] == ("admin.idp.create", "allowed", "school-idp")

    discovery = app.test_client().get("/login?next=/ui/")
    body = discovery.get_data(as_text=True)
    assert discovery.status_code == 200
    assert "Kies uw organisatie of inlogmiddel" in body
    assert "Inlogdienst Scholengroep" in body and "Ontwikkel-IdP" in body
    chosen = app.test_client().get("/login?idp=school-idp")
    assert chosen.status_code == 302
    assert chosen.headers["Location"].startswith(TestIdp.SSO_URL)


def test_an_invalid_registration_is_refused_in_dutch_and_audited(app, admin, test_idp):
    answer = register(admin, test_idp, key="Geen Sleutel!", organisations="123")

    body = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "De identiteitsprovider is niet geregistreerd" in body
    assert "key" in body and "organisations" in body
    assert idp_events(app)[-1] == ("admin.idp.create", "denied", "Geen Sleutel!")


def test_suspending_an_idp_ends_its_sessions_and_stops_its_logins(app, admin, test_idp):
    register(admin, test_idp, key="suspend-me")
    now = utcnow()
    with app.extensions["gateway"].db.write_session() as session:
        for token, idp in (("a" * 64, "suspend-me"), ("b" * 64, "development")):
            session.add(WebSessionRow(
                token_hash=token, name_id=f"someone@{idp}", display_name="Iemand",
                org_oin=None, idp=idp, roles=[], csrf_token="x", created_at=now,
                last_seen_at=now, expires_at=now + timedelta(hours=1)))

    answer = admin.post("/ui/idps/suspend-me/status",
                        data={"csrf_token": csrf(admin), "status": "suspended"})

    assert answer.status_code == 303
    with app.extensions["gateway"].db.session() as session:
        left = dict(session.execute(
            select(WebSessionRow.idp, func.count()).group_by(WebSessionRow.idp)).all())
    assert "suspend-me" not in left and left.get("development", 0) >= 1
    assert app.test_client().get("/login?idp=suspend-me").status_code == 503
    assert idp_events(app)[-1] == ("admin.idp.suspend", "allowed", "suspend-me")

    admin.post("/ui/idps/suspend-me/status", data={"csrf_token": csrf(admin), "status": "active"})
    assert app.test_client().get("/login?idp=suspend-me").status_code == 302
    assert idp_events(app)[-1] == ("admin.idp.activate", "allowed", "suspend-me")


def test_a_privacy_officer_may_not_open_the_idp_pages(app):
    officer = app.test_client()
    # several IdPs are registered by now: the development IdP is chosen by name
    location = officer.get("/login?idp=development&next=/ui/").headers["Location"]
    assert "/devidp/" in location
    page = officer.get(location[location.index("/devidp/"):]).get_data(as_text=True)
    fields = dict(re.findall(r'name="(SAMLRequest|RelayState|token)" value="([^"]*)"', page))
    answer = officer.post("/devidp/sso", data={**fields, "user": "privacy-operator"})
    form = dict(re.findall(r'name="(SAMLResponse|RelayState)" value="([^"]*)"',
                           answer.get_data(as_text=True)))
    assert officer.post("/saml/acs", data=form).status_code == 303

    assert officer.get("/ui/idps").status_code == 403
