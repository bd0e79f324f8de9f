"""Case reminders of the daily run (docs/pact-workflows.md 3.1 step 5, 3.3, 5.4): ``due_today``
to the party on its due date, ``overdue`` to the regiehouder a week later (a run that finds
both due sends only ``overdue``), ``party_suspended`` to the regiehouder instead of a suspended
party, ``review_due`` to the regiehouder on the review date; each once, nothing for the
parents. The agreements are set up directly in the tables (the case API fills them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pytest
from sqlalchemy import insert, select
from test_escalation import OPERATOR_ENTRY, RUNNER, TODAY, World, build_world, days, local

from gateway.audit.models import AuditEventRow
from gateway.consents.models import ConsentRow
from gateway.pact.models import PactAgreement, PactCase, PactParticipant
from gateway.pact.reminders import agreement_reminder
from tests import exchange_helpers as ex

CONSENT = "0190c4f5-8c6b-7cc0-8000-0000000000c1"
CASE = "0190c4f5-8c6b-7cc0-8000-0000000000ca"
REGIE = {"oin": ex.LEERPLICHT, "name": "Leerplicht Groningen", "type": "leerplicht"}
KEYS = ("message_type", "sender", "subject", "payload", "purpose", "legal_basis")


@pytest.fixture
def world(database_url, keys_dir):
    built = build_world(database_url, keys_dir)
    consultation(built, built.subject_ref(), built.clock["now"])
    yield built
    built.db.dispose()


def consultation(world: World, subject_ref: str, at: datetime) -> None:
    """An agreed consultation of the school (regie: leerplicht; review D+42): 1 GGD due D+14,
    2 WIJ due D+28, 3 the school due D+7, 4 the parents due D+7."""
    orgs = world.orgs
    with world.db.write_session() as session:
        session.execute(
            insert(ConsentRow),
            {
                "id": CONSENT,
                "subject_ref": "consent-ref",
                "purpose": "case_consultation",
                "parties": [ex.SCHOOL, "ggd", "wij", "leerplicht"],
                "grantor_roles": ["parent"],
                "valid_from": TODAY,
                "valid_until": TODAY + days(365),
                "evidence_method": "paper",
                "recorded_by_org_id": orgs[ex.SCHOOL].id,
                "created_at": at,
                "key_version": 1,
                "sealed": b"x",
                "receipt": "r",
            },
        )
        session.execute(
            insert(PactCase),
            {
                "id": CASE,
                "kind": "consultation",
                "status": "agreed",
                "subject_ref": subject_ref,
                "convener_org_id": orgs[ex.SCHOOL].id,
                "consent_id": CONSENT,
                "purpose": "case_consultation",
                "created_at": at,
                "updated_at": at,
                "meeting_date": TODAY,
                "regie_org_id": orgs[ex.LEERPLICHT].id,
                "next_review_date": TODAY + days(42),
            },
        )
        for oin, role, status in (
            (ex.SCHOOL, "convener", "convener"),
            (ex.GGD, "invitee", "accepted"),
            (ex.WIJ, "invitee", "accepted"),
            (ex.LEERPLICHT, "invitee", "accepted"),
        ):
            session.execute(
                insert(PactParticipant),
                {
                    "case_id": CASE,
                    "org_id": orgs[oin].id,
                    "role": role,
                    "status": status,
                    "case_ref": f"0190c4f5-8c6b-4cc0-8000-00000000{oin[-4:]}",
                    "joined_at": at,
                },
            )
        for no, party, action, due in (
            (1, ex.GGD, "jgz_consultation", 14),
            (2, ex.WIJ, "support_trajectory", 28),
            (3, ex.SCHOOL, "adjusted_timetable", 7),
            (4, None, "attend_conversation", 7),
        ):
            session.execute(
                insert(PactAgreement),
                {
                    "case_id": CASE,
                    "no": no,
                    "party_org_id": orgs[party].id if party else None,
                    "party_role": "organisation" if party else "parents",
                    "action": action,
                    "due_date": TODAY + days(due),
                    "status": "open",
                },
            )


def ref(oin: str) -> str:
    return f"0190c4f5-8c6b-4cc0-8000-00000000{oin[-4:]}"


def reminders(world: World, oin: str) -> list[dict]:
    return [
        {k: item[k] for k in KEYS}
        for item in world.inbox(oin)
        if item["message_type"] == "case_reminder"
    ]


def item(world: World, oin: str, payload: dict) -> dict:
    return {
        "message_type": "case_reminder",
        "sender": OPERATOR_ENTRY,
        "subject": {"pseudonym": world.pseudonym(oin)},
        "payload": payload,
        "purpose": "case_consultation",
        "legal_basis": {"type": "consent", "consent_id": CONSENT},
    }


def test_which_reminder_is_due():
    @dataclass
    class Agreement:
        party_org_id: int | None
        due_date: date
        status: str = "open"
        reminded_due_at: datetime | None = None
        reminded_overdue_at: datetime | None = None

    due = TODAY
    assert agreement_reminder(Agreement(7, due), due - days(1), True, 9) is None
    assert agreement_reminder(Agreement(7, due), due, True, 9) == ("due_today", 7, ("due",))
    assert agreement_reminder(Agreement(7, due), due, False, 9) == ("party_suspended", 9, ("due",))
    assert agreement_reminder(Agreement(7, due), due + days(7), True, 9) == (
        "overdue",
        9,
        ("due", "overdue"),
    )
    marked = Agreement(7, due, reminded_due_at=local(due))
    assert agreement_reminder(marked, due + days(6), True, 9) is None
    assert agreement_reminder(Agreement(None, due), due + days(9), True, 9) is None  # parents
    assert agreement_reminder(Agreement(7, due, status="done"), due, True, 9) is None


def test_due_today_to_the_party_and_overdue_to_the_regiehouder_once(world):
    report = world.run.run(RUNNER, local(TODAY + days(14)))
    assert report.reminders == {"due_today": 1, "overdue": 1, "party_suspended": 0, "review_due": 0}
    assert reminders(world, ex.GGD) == [
        item(
            world,
            ex.GGD,
            {
                "case_ref": ref(ex.GGD),
                "agreement_no": 1,
                "action": "jgz_consultation",
                "due_date": (TODAY + days(14)).isoformat(),
                "reminder": "due_today",
                "regie": REGIE,
            },
        )
    ]
    # agreement 3 (the school's, due D+7) is a week late: only overdue, to the regiehouder
    assert reminders(world, ex.LEERPLICHT) == [
        item(
            world,
            ex.LEERPLICHT,
            {
                "case_ref": ref(ex.LEERPLICHT),
                "agreement_no": 3,
                "action": "adjusted_timetable",
                "due_date": (TODAY + days(7)).isoformat(),
                "reminder": "overdue",
                "regie": REGIE,
            },
        )
    ]
    assert reminders(world, ex.SCHOOL) == []
    assert reminders(world, ex.WIJ) == []
    again = world.run.run(RUNNER, local(TODAY + days(14), 18))
    assert sum(again.reminders.values()) == 0
    # a week after its due date the GGD's agreement is overdue: the regiehouder is told
    world.run.run(RUNNER, local(TODAY + days(21)))
    assert [r["payload"]["agreement_no"] for r in reminders(world, ex.LEERPLICHT)] == [3, 1]
    assert len(reminders(world, ex.GGD)) == 1
    with world.db.session() as session:
        remind = session.execute(
            select(AuditEventRow.recipient, AuditEventRow.case_id)
            .where(AuditEventRow.action == "case.remind")
            .order_by(AuditEventRow.seq)
        ).all()
    assert [tuple(row) for row in remind] == [
        (ex.GGD, CASE),
        (ex.LEERPLICHT, CASE),
        (ex.LEERPLICHT, CASE),
    ]


def test_a_suspended_party_is_replaced_by_the_regiehouder_once(world):
    world.registry.set_status(ex.WIJ, "suspended")
    world.run.run(RUNNER, local(TODAY + days(28)))
    assert reminders(world, ex.WIJ) == []
    assert [
        r["payload"]
        for r in reminders(world, ex.LEERPLICHT)
        if r["payload"]["reminder"] == "party_suspended"
    ] == [
        {
            "case_ref": ref(ex.LEERPLICHT),
            "agreement_no": 2,
            "action": "support_trajectory",
            "due_date": (TODAY + days(28)).isoformat(),
            "reminder": "party_suspended",
            "regie": REGIE,
        }
    ]
    again = world.run.run(RUNNER, local(TODAY + days(29)))
    assert again.reminders["party_suspended"] == 0


def test_review_due_to_the_regiehouder_on_the_review_date_once(world):
    with world.db.write_session() as session:
        session.execute(PactAgreement.__table__.update().values(status="done"))
    assert world.run.run(RUNNER, local(TODAY + days(41))).reminders["review_due"] == 0
    assert world.run.run(RUNNER, local(TODAY + days(42))).reminders["review_due"] == 1
    assert world.run.run(RUNNER, local(TODAY + days(43))).reminders["review_due"] == 0
    assert reminders(world, ex.LEERPLICHT) == [
        item(
            world,
            ex.LEERPLICHT,
            {
                "case_ref": ref(ex.LEERPLICHT),
                "due_date": (TODAY + days(42)).isoformat(),
                "reminder": "review_due",
                "regie": REGIE,
            },
        )
    ]


def test_no_reminders_for_a_closed_case(world):
    with world.db.write_session() as session:
        session.execute(PactCase.__table__.update().values(status="closed"))
    report = world.run.run(RUNNER, local(TODAY + days(60)))
    assert sum(report.reminders.values()) == 0
