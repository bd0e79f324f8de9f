"""``gateway bootstrap``: idempotent application, updates, and line-precise refusals."""

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from joserfc.jwk import ECKey
from sqlalchemy import select

from gateway.audit.log import AuditLog
from gateway.bootstrap import BootstrapError, apply_bootstrap, read_bootstrap
from gateway.storage.database import Database
from gateway.storage.models import Client, Organisation, utcnow

REPO = Path(__file__).resolve().parents[4]


def public_jwks(kid: str) -> dict:
    key = ECKey.generate_key("P-256", parameters={"kid": kid})
    return {"keys": [key.as_dict(private=False)]}


@pytest.fixture(scope="module")
def jwks():
    return public_jwks("school-1")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bootstrap.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def school_file(tmp_path, jwks, *, name="OBS De Regenboog", status="active", scopes=None):
    scopes = scopes or ["exchange:send", "exchange:receive"]
    return write(
        tmp_path,
        f"""\
        organisations:
          - oin: "00000001001234567000"
            name: "{name}"
            type: school
            status: {status}
            clients:
              - client_id: regenboog-sis
                auth: private_key_jwt
                jwks: {json.dumps(jwks)}
                scopes: {json.dumps(scopes)}
        """,
    )


def snapshot(db: Database):
    with db.session() as session:
        orgs = [
            (o.oin, o.name, o.type, o.status, o.delivery_url, o.updated_at)
            for o in session.scalars(select(Organisation))
        ]
        clients = [
            (c.client_id, c.auth_method, c.jwks, c.scopes, c.updated_at)
            for c in session.scalars(select(Client))
        ]
    return orgs, clients


def test_applying_twice_changes_nothing(database_url, tmp_path, jwks):
    db = Database(database_url)
    plan = read_bootstrap(school_file(tmp_path, jwks), production=False)
    first = apply_bootstrap(db, plan, AuditLog())
    assert sorted(first.created) == ["client regenboog-sis", "organisation 00000001001234567000"]
    before = snapshot(db)
    second = apply_bootstrap(db, read_bootstrap(school_file(tmp_path, jwks), production=False), AuditLog())
    assert not second.changed
    assert snapshot(db) == before
    db.dispose()


def test_changed_file_updates_records(database_url, tmp_path, jwks):
    db = Database(database_url)
    apply_bootstrap(db, read_bootstrap(school_file(tmp_path, jwks), production=False), AuditLog())
    changed = school_file(
        tmp_path, jwks, name="OBS De Regenboog Noord", status="suspended", scopes=["exchange:send"]
    )
    report = apply_bootstrap(db, read_bootstrap(changed, production=False), AuditLog())
    assert sorted(report.updated) == ["client regenboog-sis", "organisation 00000001001234567000"]
    with db.session() as session:
        org = session.scalars(select(Organisation)).one()
        assert (org.name, org.status) == ("OBS De Regenboog Noord", "suspended")
        assert session.scalars(select(Client)).one().scopes == ["exchange:send"]
    db.dispose()


def test_shipped_demo_file_has_one_organisation_of_each_type(database_url, tmp_path):
    from gateway.demo.keys import ensure_demo_keys

    deploy = tmp_path / "deploy"
    deploy.mkdir()
    shutil.copy(REPO / "deploy" / "demo-bootstrap.yaml", deploy)
    ensure_demo_keys(tmp_path / "instance" / "demo")
    db = Database(database_url)
    apply_bootstrap(db, read_bootstrap(deploy / "demo-bootstrap.yaml", production=False), AuditLog())
    with db.session() as session:
        types = sorted(o.type for o in session.scalars(select(Organisation)))
    assert types == sorted(["school", "swv", "ggd", "wij", "leerplicht", "operator"])
    db.dispose()


def refusal(tmp_path, text) -> list[str]:
    with pytest.raises(BootstrapError) as caught:
        read_bootstrap(write(tmp_path, text), production=False)
    return caught.value.problems


def test_bad_oin_is_refused_with_its_line(tmp_path):
    problems = refusal(
        tmp_path,
        """\
        organisations:
          - oin: "123"
            name: "X"
            type: school
        """,
    )
    assert problems == [
        "bootstrap.yaml:2: organisations[0].oin: must be an OIN of exactly 20 digits (quote it in YAML)"
    ]


def test_every_problem_is_listed_with_its_line(tmp_path, jwks):
    problems = refusal(
        tmp_path,
        f"""\
        organisations:
          - oin: "00000001001234567000"
            name: "School"
            type: hospital
            colour: blue
            clients:
              - client_id: sis
                auth: private_key_jwt
                jwks: {json.dumps(jwks)}
                scopes: [exchange:send, reidentify:approve, made:up]
        """,
    )
    text = "\n".join(problems)
    assert "bootstrap.yaml:4: organisations[0].type: must be one of" in text
    assert "bootstrap.yaml:5: organisations[0].colour: unknown key" in text
    assert (
        "bootstrap.yaml:10: organisations[0].clients[0].scopes[1]: "
        "reidentify:approve may be granted only to the operator organisation"
    ) in text
    assert "bootstrap.yaml:10: organisations[0].clients[0].scopes[2]: is not a known scope" in text


def test_private_key_in_jwks_is_refused(tmp_path):
    key = ECKey.generate_key("P-256")
    problems = refusal(
        tmp_path,
        f"""\
        organisations:
          - oin: "00000001001234567000"
            name: "School"
            type: school
            clients:
              - client_id: sis
                auth: private_key_jwt
                jwks: {json.dumps({"keys": [key.as_dict(private=True)]})}
                scopes: [exchange:send]
        """,
    )
    assert len(problems) == 1
    assert problems[0].startswith("bootstrap.yaml:8: organisations[0].clients[0].jwks:")
    assert "public keys only" in problems[0]


def test_invalid_yaml_names_the_line(tmp_path):
    problems = refusal(tmp_path, "organisations:\n  - oin: [unclosed\n  - x: 1\n")
    assert len(problems) == 1 and problems[0].startswith("bootstrap.yaml:3:")


def test_duplicate_key_is_refused(tmp_path):
    problems = refusal(
        tmp_path,
        """\
        organisations:
          - oin: "00000001001234567000"
            oin: "00000001001234567001"
        """,
    )
    assert problems == ["bootstrap.yaml:3: duplicate key 'oin'"]


def test_client_secret_refused_in_production_and_accepted_in_development(tmp_path):
    text = """\
        organisations:
          - oin: "00000001001234567000"
            name: "School"
            type: school
            clients:
              - client_id: sis
                auth: client_secret_basic
                client_secret: "a-long-enough-development-secret"
                scopes: [exchange:send]
        """
    path = write(tmp_path, text)
    assert read_bootstrap(path, production=False).organisations[0].clients
    with pytest.raises(BootstrapError) as caught:
        read_bootstrap(path, production=True)
    assert caught.value.problems == [
        "bootstrap.yaml:7: organisations[0].clients[0].auth: client_secret_basic is refused in production"
    ]


def test_refused_file_writes_nothing(database_url, tmp_path, jwks):
    db = Database(database_url)
    good = school_file(tmp_path, jwks).read_text()
    bad = good + '  - oin: "bad"\n    name: "Y"\n    type: swv\n'
    (tmp_path / "bootstrap.yaml").write_text(bad)
    with pytest.raises(BootstrapError):
        apply_bootstrap(db, read_bootstrap(tmp_path / "bootstrap.yaml", production=False), AuditLog())
    assert snapshot(db) == ([], [])
    db.dispose()


def test_client_secret_is_stored_hashed(database_url, tmp_path):
    db = Database(database_url)
    secret = "a-long-enough-development-secret"
    path = write(
        tmp_path,
        f"""\
        organisations:
          - oin: "00000001001234567000"
            name: "School"
            type: school
            clients:
              - client_id: sis
                auth: client_secret_basic
                client_secret: "{secret}"
                scopes: [exchange:send]
        """,
    )
    apply_bootstrap(db, read_bootstrap(path, production=False), AuditLog())
    with db.session() as session:
        stored = session.scalars(select(Client)).one().secret_hash
    assert secret not in stored and stored.startswith("scrypt$")
    assert not apply_bootstrap(db, read_bootstrap(path, production=False), AuditLog()).changed
    db.dispose()


ROUTE_CHANGE = """\
routes:
  - message_type: absence_report
    sender_type: school
    recipient_type: swv
    purpose: passend_onderwijs
    legal_basis: {type: legal_obligation, citation: "Wet passend onderwijs (zorgplicht)"}
    identity: pseudonym
    profile: {keep: [absence_type, start_date], generalise: {date_of_birth: birth_year}}
    retention_days: 90
  - message_type: homebound_report
    sender_type: leerplicht
    recipient_type: swv
    allowed: false
"""


def route_row(db, message_type, sender_type, recipient_type):
    from gateway.exchange.models import RoutePolicyRow

    with db.session() as session:
        return session.scalars(
            select(RoutePolicyRow).where(
                RoutePolicyRow.message_type == message_type,
                RoutePolicyRow.sender_type == sender_type,
                RoutePolicyRow.recipient_type == recipient_type,
            )
        ).first()


def test_routes_block_changes_policies_and_each_change_is_audited(database_url, tmp_path):
    from gateway.audit.models import AuditEventRow

    db = Database(database_url)
    try:
        report = apply_bootstrap(db, read_bootstrap(write(tmp_path, ROUTE_CHANGE), production=False), AuditLog())
        assert report.updated == ["route absence_report:school->swv"]
        assert report.removed == ["route homebound_report:leerplicht->swv"]
        changed = route_row(db, "absence_report", "school", "swv")
        assert changed.retention_days == 90 and changed.profile["keep"] == ["absence_type", "start_date"]
        assert route_row(db, "homebound_report", "leerplicht", "swv") is None
        with db.session() as session:
            actions = [e.action for e in session.scalars(select(AuditEventRow).order_by(AuditEventRow.seq))]
        assert actions == ["admin.route.update", "admin.route.remove"]
        again = apply_bootstrap(db, read_bootstrap(write(tmp_path, ROUTE_CHANGE), production=False), AuditLog())
        assert not again.changed
    finally:
        # restore the shipped defaults for the other tests
        from gateway.exchange.models import RoutePolicyRow
        from gateway.exchange.routes import shipped_route_rows

        with db.session() as session:
            session.execute(RoutePolicyRow.__table__.delete())
            session.execute(RoutePolicyRow.__table__.insert(), [dict(r, updated_at=utcnow()) for r in shipped_route_rows()])
        db.dispose()


def test_a_bsn_route_without_legal_obligation_is_refused(tmp_path):
    problems = refusal(
        tmp_path,
        """\
        routes:
          - message_type: support_request
            sender_type: school
            recipient_type: wij
            purpose: support
            legal_basis: {type: consent}
            identity: bsn
            profile: {keep: [urgency, diagnosis]}
            retention_days: 30
        """,
    )
    assert "bootstrap.yaml:7: routes[0].identity: a BSN may be forwarded only under a legal obligation" in problems
    assert any(p.startswith("bootstrap.yaml:8: routes[0].profile:") and "diagnosis" in p for p in problems)
