"""Races between listing the inbox and a retraction or an acknowledgement (issue 19).

``GET /api/v1/inbox`` reads the unacknowledged rows, then marks the ``accepted`` ones
``delivered`` in a second transaction. A retraction (or an acknowledgement) that commits in
between must stay: the row must not come back as ``delivered`` with its erased payload
restored, and a row retracted in between is not served. The two steps are called here one by
one with the retraction between them, as the interleaving would run.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.exchange.models import Message
from tests import exchange_helpers as ex
from tests.functional_partners import AppPartners


@pytest.fixture
def partners(database_url, keys_dir) -> AppPartners:
    return AppPartners(database_url, keys_dir)


def caller(partners, oin):
    from gateway.oauth.protect import Caller

    with partners.services.db.session() as session:
        from gateway.storage.models import Organisation

        org = session.scalars(select(Organisation).where(Organisation.oin == oin)).one()
        return Caller(
            f"client-{oin}",
            org.id,
            org.oin,
            org.type,
            org.name,
            frozenset({"exchange:send", "exchange:receive"}),
            "jti",
        )


def row(partners, exchange_id) -> Message:
    with partners.services.db.session() as session:
        return session.scalars(select(Message).where(Message.id == exchange_id)).one()


def test_a_retraction_between_reading_and_delivering_the_inbox_stays(partners):
    sent = partners.send(ex.SCHOOL, "absence_report", ex.LEERPLICHT, ex.absence_report(ex.today()))
    exchange_id = sent.json["id"]
    service = partners.services.exchanges
    leerplicht = caller(partners, ex.LEERPLICHT)
    rows = service._unacknowledged(leerplicht.org_id, 0, 10)  # the listing has read its rows
    partners.services.retractions.retract(
        caller(partners, ex.SCHOOL), exchange_id, {"reason": "wrong_child"}
    )
    served = service._deliver(leerplicht, rows, partners.services.clock())  # then delivers
    stored = row(partners, exchange_id)
    assert stored.status == "retracted" and stored.ciphertext is None
    assert exchange_id in served.withheld


def test_an_acknowledgement_between_reading_and_delivering_the_inbox_stays(partners):
    sent = partners.send(ex.SCHOOL, "absence_report", ex.LEERPLICHT, ex.absence_report(ex.today()))
    exchange_id = sent.json["id"]
    service = partners.services.exchanges
    leerplicht = caller(partners, ex.LEERPLICHT)
    rows = service._unacknowledged(leerplicht.org_id, 0, 10)
    service.ack(leerplicht, exchange_id)
    service._deliver(leerplicht, rows, partners.services.clock())
    stored = row(partners, exchange_id)
    assert stored.status == "acknowledged" and stored.ciphertext is None
