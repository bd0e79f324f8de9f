"""``auth.failure`` audit events: written only for a client that proved who it was and then
failed (API.md section 13 rule 4); naming a registered client proves nothing.

The full matrix of anonymous and proven failures is in tests/security/test_anonymous_audit.py.
"""

import json

import pytest
from sqlalchemy import select

from gateway.audit.models import AuditEventRow
from tests.oauth_helpers import OIN_A, World, client_assertion, make_client_key, token_form


@pytest.fixture
def world(database_url, keys_dir):
    world = World(database_url, keys_dir)
    yield world
    world.close()


def failure_events(world):
    with world.db.session() as session:
        rows = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "auth.failure")
        ).all()
    return [json.loads(row.canonical) for row in rows]


def test_assertion_signed_by_another_key_is_counted_but_not_audited(world):
    """Anyone can name a-sis; only its key proves it, so a forgery leaves no audit event."""
    forged = client_assertion(make_client_key(), "a-sis", world.token_url)
    response = world.post_token(token_form(forged))
    assert response.status_code == 401
    assert failure_events(world) == []


def test_verified_client_asking_an_unregistered_scope_is_audited(world):
    response = world.post_token(token_form(world.assertion(), scope="audit:read"))
    assert response.status_code == 400
    [event] = failure_events(world)
    assert event["actor"] == {"org": OIN_A, "client_id": "a-sis", "user": None}
    assert (event["decision"], event["reason"]) == ("denied", "invalid_scope")


def test_unknown_client_is_counted_but_not_audited(world):
    forged = client_assertion(make_client_key(), "nobody-we-know", world.token_url)
    assert world.post_token(token_form(forged)).status_code == 401
    assert failure_events(world) == []


def test_successful_token_writes_no_failure(world):
    world.token()
    assert failure_events(world) == []
