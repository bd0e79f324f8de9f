"""``OAuthStore`` on SQLite and PostgreSQL: the replay cache holds across processes."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from gateway.oauth.store import OAuthStore
from gateway.registry.service import ClientCredentials, OrganisationRegistry
from gateway.storage.database import Database
from tests.oauth_helpers import make_client_key

NOW = 1_800_000_000
OIN = "00000001001234567000"


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def databases(database_url):
    """Two engines on one database: two gateway processes."""
    first, second = Database(database_url), Database(database_url)
    registry = OrganisationRegistry(first, production=False)
    registry.add_organisation(OIN, "OBS", "school")
    jwks = make_client_key().jwks()
    registry.add_client(OIN, "sis", ClientCredentials("private_key_jwt", jwks=jwks), ["exchange:send"])
    yield first, second
    first.dispose()
    second.dispose()


def record(store, jti="t-1", **changes):
    values = dict(
        jti=jti,
        client_id="sis",
        auth_method="private_key_jwt",
        scope="exchange:send",
        kid="k",
        x5t_s256=None,
        issued_at=NOW,
        expires_at=NOW + 300,
    )
    values.update(changes)
    store.record_token(**values)


def test_a_jti_is_accepted_once_across_processes(databases):
    clock = Clock(NOW)
    one, two = (OAuthStore(db, clock) for db in databases)
    assert one.remember_assertion("sis", "jti-1", NOW + 180) is True
    assert two.remember_assertion("sis", "jti-1", NOW + 180) is False
    assert one.remember_assertion("sis", "jti-1", NOW + 180) is False
    assert two.remember_assertion("other-client", "jti-1", NOW + 180) is True


def test_concurrent_replays_have_exactly_one_winner(databases):
    stores = [OAuthStore(db, Clock(NOW)) for db in databases]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda i: stores[i % 2].remember_assertion("sis", "race", NOW + 60), range(16))
        )
    assert results.count(True) == 1


def test_expired_replay_rows_are_purged(databases):
    clock = Clock(NOW)
    store = OAuthStore(databases[0], clock)
    store.remember_assertion("sis", "old", NOW + 10)
    store.remember_assertion("sis", "young", NOW + 400)
    clock.now = NOW + 100
    store.purge_expired()
    assert store.remember_assertion("sis", "old", NOW + 500) is True
    assert store.remember_assertion("sis", "young", NOW + 500) is False


def test_token_view_joins_client_and_organisation(databases):
    store = OAuthStore(databases[0], Clock(NOW))
    record(store)
    view = store.token("t-1")
    assert (view.client_id, view.org_oin, view.org_type, view.org_status) == ("sis", OIN, "school", "active")
    assert view.client_scopes == ("exchange:send",) and not view.is_revoked()
    OrganisationRegistry(databases[1], production=False).set_status(OIN, "suspended")
    assert store.token("t-1").is_revoked()
    assert store.token("unknown") is None


def test_revoke_only_own_token_and_only_once(databases):
    one, two = (OAuthStore(db, Clock(NOW)) for db in databases)
    record(one)
    assert two.revoke("t-1", "someone-else") is False
    assert one.token("t-1").revoked is False
    assert two.revoke("t-1", "sis") is True
    assert two.revoke("t-1", "sis") is False
    assert one.token("t-1").revoked is True


def test_token_rows_are_kept_a_day_past_expiry(databases):
    clock = Clock(NOW)
    store = OAuthStore(databases[0], clock)
    record(store)
    clock.now = NOW + 300 + 3600
    store.purge_expired()
    assert store.token("t-1").is_expired()
    clock.now = NOW + 300 + 86401
    store.purge_expired()
    assert store.token("t-1") is None
