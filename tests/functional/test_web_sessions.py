"""Server-side web sessions on SQLite and PostgreSQL: timeouts, roles as they apply now,
and ending sessions by NameID (IdP-initiated logout)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.registry.service import OrganisationRegistry
from gateway.saml.identity import SamlIdentity
from gateway.storage.database import Database
from gateway.web.sessions import SessionStore

OPERATOR, SCHOOL = "00000001006789012000", "00000001001234567000"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def store(database_url):
    db = Database(database_url)
    registry = OrganisationRegistry(db, production=False)
    registry.add_organisation(OPERATOR, "Beheer", "operator")
    registry.add_organisation(SCHOOL, "School", "school")
    clock = Clock()
    yield SessionStore(db, clock), clock, registry
    db.dispose()


def identity(org=OPERATOR, roles=("privacy_officer",), name_id="p@example.test"):
    return SamlIdentity(name_id, None, "idx-1", "P", org, roles)


def test_a_session_is_found_by_its_token_only(store):
    sessions, _, _ = store
    token = sessions.create(identity())
    user = sessions.load(token)
    assert user.name_id == "p@example.test" and user.is_operator
    assert user.roles == ("privacy_officer",)
    assert sessions.load(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert sessions.load(None) is None


def test_idle_and_absolute_timeouts(store):
    sessions, clock, _ = store
    token = sessions.create(identity())
    for _ in range(16):  # active every 29 minutes (7h44): the idle timer restarts
        clock.now += timedelta(minutes=29)
        assert sessions.load(token) is not None
    clock.now += timedelta(minutes=29)
    assert sessions.load(token) is None, "8 hours after login, however active"
    fresh = sessions.create(identity())
    clock.now += timedelta(minutes=31)
    assert sessions.load(fresh) is None


def test_roles_follow_the_organisation_now(store):
    sessions, _, registry = store
    admin_at_school = sessions.create(identity(SCHOOL, ("admin", "privacy_officer")))
    assert sessions.load(admin_at_school).roles == ("privacy_officer",), "admin is operator-only"
    registry.set_status(SCHOOL, "suspended")
    assert sessions.load(admin_at_school).roles == ()
    unknown = sessions.create(identity("00000001009999999000"))
    assert sessions.load(unknown).roles == ()


def test_logout_by_name_id_ends_that_persons_sessions_only(store):
    sessions, _, _ = store
    mine, theirs = sessions.create(identity()), sessions.create(identity(name_id="q@x.test"))
    assert sessions.end_for("p@example.test") == 1
    assert sessions.load(mine) is None and sessions.load(theirs) is not None
    sessions.end(theirs)
    assert sessions.load(theirs) is None
