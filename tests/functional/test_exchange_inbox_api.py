"""``/api/v1/exchanges`` and ``/api/v1/inbox`` through the Flask test client (the exchange
area's functional test; tests/e2e/test_exchange_api.py covers every route over HTTP).

Send, status, inbox paging, acknowledgement, and refusals that store nothing and are
audited, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from gateway.audit.models import AuditEventRow
from gateway.exchange.models import Message
from tests import exchange_helpers as ex
from tests.functional_partners import AppPartners

TODAY = ex.today()


@pytest.fixture
def partners(database_url, keys_dir) -> AppPartners:
    return AppPartners(database_url, keys_dir)


def _count(partners, model) -> int:
    with partners.services.db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_send_reaches_the_inbox_minimised_and_is_acknowledged(partners):
    response = partners.send(ex.SCHOOL, "absence_report", ex.SWV, ex.absence_report(TODAY))
    assert response.status_code == 202, response.json
    accepted = response.json
    assert accepted["status"] == "accepted" and accepted["recipient"] == ex.SWV

    inbox = partners.get(ex.SWV, "/api/v1/inbox").json
    [item] = inbox["items"]
    assert item["id"] == accepted["id"] and inbox["next_cursor"] is None
    # the SWV route forwards a pseudonym and the birth year, never the BSN or the contact
    assert set(item["subject"]) == {"pseudonym"}
    assert "contact" not in item["payload"] and "date_of_birth" not in item["payload"]
    assert item["payload"]["birth_year"] == int(ex.absence_report(TODAY)["date_of_birth"][:4])

    status = partners.get(ex.SCHOOL, f"/api/v1/exchanges/{accepted['id']}").json
    assert status["status"] == "delivered" and "payload" not in status

    acked = partners.post(ex.SWV, f"/api/v1/inbox/{accepted['id']}/ack")
    assert acked.status_code == 200 and acked.json["status"] == "acknowledged"
    assert partners.get(ex.SWV, "/api/v1/inbox").json["items"] == []


def test_the_inbox_pages_with_cursors_of_its_own(partners):
    sent = [
        partners.send(ex.SCHOOL, "absence_report", ex.SWV, ex.absence_report(TODAY)).json["id"]
        for _ in range(3)
    ]
    first = partners.get(ex.SWV, "/api/v1/inbox", limit=2).json
    assert [item["id"] for item in first["items"]] == sent[:2] and first["next_cursor"]
    second = partners.get(ex.SWV, "/api/v1/inbox", limit=2, cursor=first["next_cursor"]).json
    assert [item["id"] for item in second["items"]] == sent[2:] and second["next_cursor"] is None

    for foreign in ("YTE", "!!!", "czE5OTk5OTk5OTk5OTk5OTk5OTk5OTk5"):  # an audit cursor, junk, too long
        refused = partners.get(ex.SWV, "/api/v1/inbox", cursor=foreign)
        assert refused.status_code == 400, foreign
        assert refused.json["code"] == "invalid_parameter" and "cursor" in refused.json["errors"]
    assert partners.get(ex.SWV, "/api/v1/inbox", limit=501).json["code"] == "invalid_parameter"


def test_a_refused_send_stores_nothing_and_is_audited(partners):
    messages, events = _count(partners, Message), _count(partners, AuditEventRow)
    response = partners.send(ex.SCHOOL, "signal_match", ex.WIJ, {})
    assert response.status_code == 403
    assert response.json["code"] == "route_not_allowed"
    assert response.headers["Content-Type"] == "application/problem+json"
    assert _count(partners, Message) == messages
    assert _count(partners, AuditEventRow) == events + 1
    with partners.services.db.session() as session:
        event = session.scalars(select(AuditEventRow).order_by(AuditEventRow.seq.desc())).first()
    assert (event.action, event.decision) == ("exchange.send", "denied")
    assert partners.get(ex.WIJ, "/api/v1/inbox").json["items"] == []


def test_an_exchange_of_another_organisation_is_not_found(partners):
    accepted = partners.send(ex.SCHOOL, "absence_report", ex.SWV, ex.absence_report(TODAY)).json
    response = partners.get(ex.GGD, f"/api/v1/exchanges/{accepted['id']}")
    assert response.status_code == 404 and response.json["code"] == "not_found"
