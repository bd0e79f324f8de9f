"""Steps 4 to 8 of a send read their four rows in one statement (gateway.exchange.lookups).

On SQLite and PostgreSQL: the statement count of a send, the refusals decided from the rows
read together, a body whose values must never reach the database driver, and the rule that a
step with other inputs than step 4's reads its own row.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event, update

from gateway.exchange import lookups
from gateway.exchange.errors import Refusal
from gateway.storage.models import Organisation
from tests import exchange_helpers as ex

STEP_TABLES = ("idempotency_keys", "exchange_transactions", "route_policies")


def selects_during(db, call):
    """The SELECT statements that ``call()`` sends (a listener on the engine: the direct path
    steps aside for it, and SQLAlchemy then runs the same SQL)."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return seen


def test_a_send_reads_its_idempotency_record_recipient_binding_and_route_in_one_statement(
    world, body
):
    db, service, orgs, school = world
    statements = selects_during(
        db, lambda: service.send(school, body(ex.LEERPLICHT), "k-1", str(uuid.uuid4()))
    )
    reading = [sql for sql in statements if any(table in sql for table in STEP_TABLES)]
    assert len(reading) == 1, reading  # were three statements, and the recipient's a fourth
    assert all(table in reading[0] for table in (*STEP_TABLES, "organisations"))


@pytest.mark.parametrize(
    ("members", "status", "code"),
    [
        ({"recipient": "00000001009999999000"}, 404, "unknown_recipient"),
        ({"recipient": ex.WIJ}, 403, "route_not_allowed"),  # a school may not send to WIJ
        ({"message_type": "jgz_advice"}, 403, "route_not_allowed"),
    ],
)
def test_each_step_still_refuses_from_the_row_read_for_it(world, body, members, status, code):
    db, service, orgs, school = world
    members = dict(members)  # the parameter is shared by both backends' runs
    recipient = members.pop("recipient", ex.LEERPLICHT)
    with pytest.raises(Refusal) as refused:
        service.send(school, body(recipient, **members), "k-1", str(uuid.uuid4()))
    assert (refused.value.status, refused.value.code) == (status, code)


def test_a_suspended_recipient_is_refused(world, body):
    db, service, orgs, school = world
    with db.session() as session:
        session.execute(
            update(Organisation).where(Organisation.oin == ex.LEERPLICHT).values(status="suspended")
        )
    with pytest.raises(Refusal) as refused:
        service.send(school, body(ex.LEERPLICHT), "k-1", str(uuid.uuid4()))
    assert (refused.value.status, refused.value.code) == (403, "recipient_suspended")


def test_a_repeat_gets_the_stored_answer_and_another_body_409(world, body):
    db, service, orgs, school = world
    transaction_id = str(uuid.uuid4())
    first = service.send(school, body(ex.LEERPLICHT), "k-1", transaction_id)
    assert service.send(school, body(ex.LEERPLICHT), "k-1", transaction_id) == first
    with pytest.raises(Refusal) as refused:
        service.send(school, body(ex.LEERPLICHT, subject={"bsn": ex.OTHER_BSN}), "k-1",
                     transaction_id)
    assert (refused.value.status, refused.value.code) == (409, "idempotency_key_reused")


@pytest.mark.parametrize(
    "members",
    [
        {"recipient": "\x00" * 20},
        {"recipient": "0000000100567890100\x00"},
        {"recipient": "\ud800" * 20},
        {"recipient": 12345678901234567890},
        {"recipient": ["00000001005678901000"]},
        {"message_type": "absence\x00report"},
        {"message_type": "\udfff"},
        {"message_type": {"type": "absence_report"}},
        {"message_type": "x" * 100_000},
    ],
    ids=["nul-oin", "nul-in-oin", "surrogate-oin", "number-oin", "list-oin", "nul-type",
         "surrogate-type", "object-type", "long-type"],
)
def test_values_read_before_the_envelope_is_checked_never_reach_the_driver(
    world, body, members
):
    """Step 4 reads before step 5 validates the envelope: a value the driver refuses (a NUL
    on PostgreSQL, a lone surrogate in UTF-8) must still get the envelope's 422, not a 500."""
    db, service, orgs, school = world
    members = dict(members)  # the parameter is shared by both backends' runs
    recipient = members.pop("recipient", ex.LEERPLICHT)
    with pytest.raises(Refusal) as refused:
        service.send(school, body(recipient, **members), "k-1", str(uuid.uuid4()))
    assert (refused.value.status, refused.value.code) == (422, "validation_failed")


def test_a_step_with_other_inputs_reads_its_own_row(world):
    db, service, orgs, school = world
    with db.read_session() as session:
        read = lookups.fetch(session, school.org_id, "school", "k-1", ex.LEERPLICHT, "t-1",
                             "absence_report")
    assert read.recipient_for(ex.LEERPLICHT).id == orgs[ex.LEERPLICHT].id
    assert read.route_for("absence_report", "school", "leerplicht").purpose
    assert read.stored_for(school.org_id, "k-1") is None
    assert read.bound_for(school.org_id, "t-1") is None
    # other inputs: a role address resolved to another organisation, another type or key
    assert read.recipient_for(ex.SWV) is lookups.NOT_READ
    assert read.route_for("absence_report", "school", "swv") is lookups.NOT_READ
    assert read.stored_for(school.org_id, "k-2") is lookups.NOT_READ
    assert read.bound_for(school.org_id, "t-2") is lookups.NOT_READ
    for answer in (lookups.NOTHING.recipient_for(ex.LEERPLICHT),
                   lookups.NOTHING.route_for("absence_report", "school", "leerplicht"),
                   lookups.NOTHING.stored_for(school.org_id, "k-1"),
                   lookups.NOTHING.bound_for(school.org_id, "t-1")):
        assert answer is lookups.NOT_READ
