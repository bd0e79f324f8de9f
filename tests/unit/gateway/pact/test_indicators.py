"""The pact indicators (design section 8): what counts in which school year, whose processes a
partner sees, and small-cell suppression over the linked counts. Test data goes straight into
the case tables (the case API is not what is tested here)."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime

import pytest

from gateway.monitoring.indicators import SchoolYear
from gateway.monitoring.models import MonitoringFact
from gateway.pact.indicators import PactIndicators, placement_band
from gateway.pact.models import PactAgreement, PactCase, PactEscalation, PactParticipant
from gateway.registry.models import Region
from gateway.storage.database import Database
from gateway.storage.models import Organisation

YEAR = SchoolYear.parse("2025-2026")
DURING = date(2026, 3, 1)  # a day in the year: counts stop at today
AFTER = date(2026, 9, 1)  # a day after the year: counts stop at 31 July
AT = datetime(2025, 8, 1, 9, 0, tzinfo=UTC)
_serial = itertools.count(1)

ZERO_ADVICE = {
    "unfit_for_school": 0,
    "fit_with_adjustments": 0,
    "fit_for_school": 0,
    "unable_to_advise": 0,
    "none": 0,
}
ZERO = {
    "consultations": {"held": 0, "with_agreements": 0},
    "exemption_requests": {
        "total": 0,
        "by_medical_advice": {
            "unfit_for_school": 0,
            "fit_with_adjustments": 0,
            "fit_for_school": 0,
            "unable_to_advise": 0,
            "none": 0,
        },
        "by_decision": {"exempted_5a": 0, "not_exempted": 0, "request_withdrawn": 0},
    },
    "escalations": {
        "opened": 0,
        "closed": 0,
        "open_at_year_end": 0,
        "by_region": {"groningen": 0, "lekstroom": 0},
    },
    "time_to_placement": {
        "placed": 0,
        "median_days": None,
        "by_band": {"under_6_weeks": 0, "6_weeks_to_3_months": 0, "over_3_months": 0},
    },
}


@pytest.fixture
def db(sqlite_url):
    database = Database(sqlite_url)
    yield database
    database.dispose()


@pytest.fixture
def org(db):
    """The organisations by name -> id, and the two pact regions."""
    names = {
        "school": "school",
        "school2": "school",
        "ggd": "ggd",
        "swv": "swv",
        "swv2": "swv",
        "leerplicht": "leerplicht",
        "leerplicht2": "leerplicht",
        "wij": "wij",
    }
    with db.session() as session, session.begin():
        rows = {}
        for n, (name, kind) in enumerate(names.items()):
            rows[name] = Organisation(oin=f"0000000100{n:010d}", name=name, type=kind)
            session.add(rows[name])
        for code in ("lekstroom", "groningen"):
            session.add(Region(code=code, name=code.title(), homebound_norm_days=42))
        session.flush()
        return {name: row.id for name, row in rows.items()}


def case(session, kind, **columns) -> str:
    case_id = str(uuid.uuid4())
    columns = {"status": "open", "purpose": "case_consultation", **columns}
    session.add(
        PactCase(
            id=case_id,
            kind=kind,
            subject_ref=f"child-{next(_serial)}",
            created_at=AT,
            updated_at=AT,
            **columns,
        )
    )
    session.flush()  # the case before its participants (foreign keys)
    return case_id


def participant(session, case_id, org_id, role, status):
    session.add(
        PactParticipant(
            case_id=case_id,
            org_id=org_id,
            role=role,
            status=status,
            case_ref=str(uuid.uuid4()),
            joined_at=AT,
        )
    )


def consultation(
    db,
    org,
    meeting,
    accepted=("ggd",),
    declined=(),
    agreements=0,
    closed_at=None,
    convener="school",
):
    with db.session() as session, session.begin():
        case_id = case(
            session,
            "consultation",
            meeting_date=meeting,
            closed_at=closed_at,
            convener_org_id=org[convener],
        )
        participant(session, case_id, org[convener], "convener", "convener")
        for name in accepted:
            participant(session, case_id, org[name], "invitee", "accepted")
        for name in declined:
            participant(session, case_id, org[name], "invitee", "declined")
        for no in range(1, agreements + 1):
            session.add(
                PactAgreement(
                    case_id=case_id,
                    no=no,
                    party_role="parents",
                    action="attend_conversation",
                    due_date=meeting,
                    status="open",
                )
            )


def exemption(db, org, requested_on, decision, advice=None, ggd_status="answered", swv=False):
    with db.session() as session, session.begin():
        case_id = case(
            session,
            "exemption_advice",
            requested_on=requested_on,
            decision=decision,
            advice_medical=advice,
            status="decided" if decision else "advised",
            convener_org_id=org["leerplicht"],
            purpose="exemption_advice",
        )
        participant(session, case_id, org["leerplicht"], "convener", "convener")
        participant(session, case_id, org["ggd"], "adviser", ggd_status)
        if swv:
            participant(session, case_id, org["swv"], "adviser", "answered")


def escalation(
    db, org, fired_on, closed_on=None, region="groningen", reporter="leerplicht", holder="swv"
):
    with db.session() as session, session.begin():
        case_id = case(
            session,
            "escalation",
            status="closed" if closed_on else "open",
            region_code=region,
            purpose="homebound_escalation",
        )
        session.add(
            PactEscalation(
                case_id=case_id,
                subject_ref=f"child-{next(_serial)}",
                reporter_org_id=org[reporter],
                holder_org_id=org[holder],
                region_code=region,
                category="absolute_absence",
                since_date=date(2024, 1, 1),
                norm_days=42,
                fired_on=fired_on,
                closed_on=closed_on,
                placed_date=closed_on,
                delivered=True,
            )
        )


def placed_fact(db, org, child, since, placed, reported=1, sender="leerplicht", recipient="swv"):
    with db.session() as session, session.begin():
        session.add(
            MonitoringFact(
                message_id=str(uuid.uuid4()),
                kind="homebound",
                subject_ref=child,
                category="absolute_absence",
                since_date=since,
                placed_date=placed,
                sender_org_id=org[sender],
                recipient_org_id=org[recipient],
                reported_at=datetime(2026, 1, reported, tzinfo=UTC),
            )
        )


def pact(db, org_id=None, today=AFTER, year=YEAR) -> dict:
    with db.session() as session:
        return PactIndicators("Europe/Amsterdam").pact(session, year, org_id, today)


def charts(db, org_id=None, today=AFTER, year=YEAR):
    with db.session() as session:
        return PactIndicators("Europe/Amsterdam").charts(session, year, org_id, today)


def test_nothing_happened_is_every_member_with_zeros(db, org):
    assert pact(db) == ZERO
    assert pact(db, org["school"], today=DURING) == ZERO


@pytest.mark.parametrize(
    ("days", "band"),
    [
        (0, "under_6_weeks"),
        (41, "under_6_weeks"),
        (42, "6_weeks_to_3_months"),
        (90, "6_weeks_to_3_months"),
        (91, "over_3_months"),
    ],
)
def test_time_bands_are_the_two_pact_norms(days, band):
    assert placement_band(days) == band


def test_a_consultation_counts_in_its_meeting_year_once_held_with_an_accepted_invitee(db, org):
    for day in (1, 2, 3, 4, 5):
        consultation(db, org, date(2025, 8, day), agreements=2)  # 5 held, with agreements
    consultation(db, org, date(2026, 2, 27))  # held, no agreements
    consultation(db, org, date(2025, 7, 31), agreements=1)  # the year before
    consultation(db, org, date(2026, 3, 2), agreements=1)  # after today: not held yet
    consultation(db, org, date(2026, 2, 20), accepted=(), declined=("ggd",))  # nobody came
    consultation(db, org, date(2026, 2, 20), closed_at=datetime(2026, 2, 10, 12, tzinfo=UTC))
    # closed on the meeting day itself (19 February 23:30 UTC is 20 February in Amsterdam)
    consultation(
        db,
        org,
        date(2026, 2, 20),
        agreements=1,
        closed_at=datetime(2026, 2, 19, 23, 30, tzinfo=UTC),
    )
    # held 7 = 6 with agreements + 1 without: the one "<5" remainder is never published, but
    # held minus with_agreements would give it, so with_agreements is withheld
    assert pact(db, today=DURING)["consultations"] == {"held": 7, "with_agreements": None}


def test_small_counts_are_less_than_five_and_zero_stays_zero(db, org):
    for day in (1, 2, 3):
        consultation(db, org, date(2025, 9, day), agreements=1)
    assert pact(db)["consultations"] == {"held": "<5", "with_agreements": "<5"}
    exemption(db, org, date(2025, 10, 1), "not_exempted", "fit_for_school")
    requests = pact(db)["exemption_requests"]
    assert requests["total"] == "<5"
    assert requests["by_medical_advice"] == {
        "unfit_for_school": 0,
        "fit_with_adjustments": 0,
        "fit_for_school": "<5",
        "unable_to_advise": 0,
        "none": 0,
    }


def test_one_hidden_cell_in_a_grouping_withholds_the_smallest_other_non_zero_cell(db, org):
    requests = (
        [("unfit_for_school", "exempted_5a")] * 2
        + [("unfit_for_school", "not_exempted")]
        + [("fit_with_adjustments", "not_exempted")] * 6
        + [("fit_for_school", "request_withdrawn")] * 5
        + [("fit_for_school", "not_exempted")] * 2
    )
    for advice, decision in requests:
        exemption(db, org, date(2025, 11, 3), decision, advice)
    exemption(db, org, date(2025, 11, 3), None, "unfit_for_school")  # not decided: not counted
    exemption(db, org, date(2026, 8, 1), "not_exempted", "fit_for_school")  # next year
    assert pact(db)["exemption_requests"] == {
        "total": 16,
        # unfit 3 is "<5"; the smallest other non-zero cell (6) is withheld
        "by_medical_advice": {
            "unfit_for_school": "<5",
            "fit_with_adjustments": None,
            "fit_for_school": 7,
            "unable_to_advise": 0,
            "none": 0,
        },
        # exempted 2 is "<5"; withdrawn 5 is withheld
        "by_decision": {"exempted_5a": "<5", "not_exempted": 9, "request_withdrawn": None},
    }


def test_a_request_decided_without_the_ggd_advice_counts_as_none(db, org):
    for _ in range(5):
        exemption(db, org, date(2026, 7, 31), "not_exempted", None, ggd_status="invited")
    requests = pact(db)["exemption_requests"]
    assert requests["total"] == 5 and requests["by_medical_advice"]["none"] == 5


def test_escalations_open_at_year_end_and_closed_in_their_year(db, org):
    for _ in range(5):
        escalation(db, org, date(2025, 9, 1))  # opened this year, still open
        escalation(db, org, date(2025, 10, 1), closed_on=date(2026, 8, 15))  # closed next year
        escalation(db, org, date(2024, 5, 1), closed_on=date(2026, 7, 31))  # closed on 31 July
        escalation(db, org, date(2024, 1, 1), region="lekstroom")  # from before, still open
    assert pact(db)["escalations"] == {
        "opened": 10,
        "closed": 5,
        "open_at_year_end": 15,
        "by_region": {"groningen": 10, "lekstroom": 0},
    }
    # during the year the counts stop at today: the closings to come have not happened
    assert pact(db, today=DURING)["escalations"] == {
        "opened": 10,
        "closed": 0,
        "open_at_year_end": 20,
        "by_region": {"groningen": 10, "lekstroom": 0},
    }
    # a year that has not begun has nothing open yet
    assert pact(db, today=DURING, year=SchoolYear.parse("2026-2027"))["escalations"] == {
        "opened": 0,
        "closed": 0,
        "open_at_year_end": 0,
        "by_region": {"groningen": 0, "lekstroom": 0},
    }


def test_suppression_is_repeated_until_stable_along_the_monthly_open_counts(db, org):
    for _ in range(6):
        escalation(db, org, date(2025, 9, 10))
    escalation(db, org, date(2025, 9, 10), closed_on=date(2026, 1, 20))  # 7 opened, 1 closed
    published = charts(db)
    # open: 7 at the end of September to December, 6 from January on. January's closing is
    # "<5"; 7 - closed = 6 would give it, so January's open count is withheld; then February's
    # would give January's (nothing opened or closed in between), and so on to 31 July:
    # without the whole chain the year's open_at_year_end (6) would reveal the closing.
    assert published.pact["escalations"] == {
        "opened": 7,
        "closed": "<5",
        "open_at_year_end": None,
        "by_region": {"groningen": 7, "lekstroom": 0},
    }
    assert [m.month for m in published.months] == [8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 7]
    assert published.open == [0, 7, 7, 7, 7, None, None, None, None, None, None, None]
    assert published.opened == [0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    assert published.closed == [0, 0, 0, 0, 0, "<5", 0, 0, 0, 0, 0, 0]


def test_monthly_consultations_are_suppressed_with_the_year(db, org):
    for day in range(1, 7):
        consultation(db, org, date(2025, 9, day), agreements=1)
    consultation(db, org, date(2025, 10, 1), agreements=1)
    published = charts(db, today=date(2025, 10, 15))
    assert [m.month for m in published.months] == [8, 9, 10]
    # October's 1 is "<5"; the year's 7 would give it from September's 6: September withheld
    assert published.consultations == [0, None, "<5"]
    assert published.pact["consultations"] == {"held": 7, "with_agreements": 7}


def test_time_to_placement_once_per_child_in_the_year_of_placement(db, org):
    placed_fact(db, org, "a", date(2025, 9, 1), date(2025, 9, 11))  # 10 days
    placed_fact(db, org, "b", date(2025, 9, 1), date(2025, 10, 12), reported=1)  # 41 days...
    placed_fact(db, org, "b", date(2025, 9, 1), date(2025, 10, 13), reported=2)  # ...42: latest
    placed_fact(db, org, "c", date(2025, 9, 1), date(2025, 11, 30))  # 90 days
    placed_fact(db, org, "d", date(2025, 6, 1), date(2025, 8, 31))  # 91 days
    placed_fact(db, org, "e", date(2025, 6, 1), date(2025, 7, 31))  # placed the year before
    placed_fact(db, org, "f", date(2025, 9, 1), None)  # not placed
    assert pact(db)["time_to_placement"] == {
        "placed": "<5",
        "median_days": None,  # 4 placed: no median
        "by_band": {"under_6_weeks": "<5", "6_weeks_to_3_months": "<5", "over_3_months": "<5"},
    }
    placed_fact(db, org, "g", date(2026, 6, 1), date(2026, 7, 31))  # 60 days
    placed_fact(db, org, "h", date(2026, 6, 1), date(2026, 7, 11))  # 40 days
    # 10, 40, 42, 60, 90, 91: median (42 + 60) / 2
    assert pact(db)["time_to_placement"] == {
        "placed": 6,
        "median_days": 51,
        "by_band": {"under_6_weeks": "<5", "6_weeks_to_3_months": "<5", "over_3_months": "<5"},
    }
    placed_fact(db, org, "i", date(2026, 6, 1), date(2026, 7, 12))  # 41 days
    assert pact(db)["time_to_placement"]["median_days"] == 42


def test_a_partner_sees_the_processes_it_took_part_in(db, org):
    for day in range(1, 6):
        consultation(
            db, org, date(2025, 9, day), accepted=("ggd",), declined=("wij",), agreements=1
        )
        consultation(db, org, date(2025, 9, day), accepted=("swv",), convener="school2")
        escalation(db, org, date(2025, 9, day))
        escalation(
            db, org, date(2025, 9, day), region="lekstroom", reporter="leerplicht2", holder="swv2"
        )
        exemption(db, org, date(2025, 9, day), "not_exempted", "fit_for_school", swv=True)
        placed_fact(db, org, f"p{day}", date(2025, 9, 1), date(2025, 9, 1 + day))
    exemption(db, org, date(2025, 9, 9), None, "fit_for_school", swv=True)  # not decided yet
    assert pact(db)["consultations"] == {"held": 10, "with_agreements": 5}
    assert pact(db, org["school"])["consultations"] == {"held": 5, "with_agreements": 5}
    assert pact(db, org["ggd"])["consultations"] == {"held": 5, "with_agreements": 5}
    assert pact(db, org["swv"])["consultations"] == {"held": 5, "with_agreements": 0}
    assert pact(db, org["wij"])["consultations"] == {"held": 0, "with_agreements": 0}  # declined
    assert pact(db, org["swv2"])["escalations"]["by_region"] == {"groningen": 0, "lekstroom": 5}
    assert pact(db, org["leerplicht"])["escalations"]["opened"] == 5
    assert pact(db, org["school"])["escalations"]["opened"] == 0
    withheld = {"exempted_5a": None, "not_exempted": None, "request_withdrawn": None}
    # leerplicht asked for the advice and decided: it learns both
    assert pact(db, org["leerplicht"])["exemption_requests"] == {
        "total": 5,
        "by_medical_advice": dict(ZERO_ADVICE, fit_for_school=5),
        "by_decision": {"exempted_5a": 0, "not_exempted": 5, "request_withdrawn": 0},
    }
    # the GGD gave the medical advice; it is not told the decision (OPEN-10), not even as a
    # count (5 of 5 'not exempted' would tell it every one), nor whether there is one yet:
    # it counts the 6 requests it advised on
    assert pact(db, org["ggd"])["exemption_requests"] == {
        "total": 6,
        "by_medical_advice": dict(ZERO_ADVICE, fit_for_school=6),
        "by_decision": withheld,
    }
    # the SWV advised too, but never learns the GGD's advice (design 2.3, 9) nor the decision
    assert pact(db, org["swv"])["exemption_requests"] == {
        "total": 6,
        "by_medical_advice": dict.fromkeys(ZERO_ADVICE),
        "by_decision": withheld,
    }
    assert pact(db, org["wij"])["exemption_requests"]["total"] == 0
    assert pact(db, org["swv"])["time_to_placement"]["placed"] == 5  # it received the reports
    assert pact(db, org["wij"])["time_to_placement"]["placed"] == 0
