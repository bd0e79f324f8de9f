"""The outstanding-request store and the assertion replay cache, on SQLite and PostgreSQL:
shared by every process through the database, and single-use even under a race."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from gateway.saml.stores import AssertionReplayCache, OutstandingRequests
from gateway.storage.database import Database


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_request_is_answered_once(database_url):
    db, clock = Database(database_url), Clock()
    try:
        requests = OutstandingRequests(db, clock)
        requests.add("id-1", "authn", "/ui/audit")
        assert requests.take("id-1", "logout") is None, "another kind of request"
        assert requests.take("id-1", "authn") == "/ui/audit"
        assert requests.take("id-1", "authn") is None
        assert requests.take("id-unknown", "authn") is None
        assert requests.take(None, "authn") is None
    finally:
        db.dispose()


def test_an_expired_request_is_not_answered(database_url):
    db, clock = Database(database_url), Clock()
    try:
        requests = OutstandingRequests(db, clock)
        requests.add("id-2", "authn", "/ui/")
        clock.now += timedelta(minutes=11)
        assert requests.take("id-2", "authn") is None
    finally:
        db.dispose()


def test_a_request_taken_by_two_processes_at_once_goes_to_one(database_url):
    clock = Clock()
    setup = Database(database_url)
    OutstandingRequests(setup, clock).add("id-race", "authn", "/ui/")
    setup.dispose()
    databases = [Database(database_url) for _ in range(4)]
    try:
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(
                lambda db: OutstandingRequests(db, clock).take("id-race", "authn"), databases))
    finally:
        for db in databases:
            db.dispose()
    assert results.count("/ui/") == 1


def test_an_assertion_id_is_accepted_once_until_it_expires(database_url):
    db, clock = Database(database_url), Clock()
    try:
        cache = AssertionReplayCache(db, clock)
        keep = clock.now + timedelta(minutes=6)
        assert cache.first_use("id-a", keep)
        assert not cache.first_use("id-a", keep)
        assert AssertionReplayCache(Database(database_url), clock).first_use("id-b", keep)
        assert not AssertionReplayCache(db, clock).first_use("id-b", keep), "any process"
    finally:
        db.dispose()
