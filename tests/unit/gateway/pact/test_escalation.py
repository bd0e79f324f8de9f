"""The escalation with doorzettingsmacht (docs/pact-workflows.md section 5): it fires exactly at
the region's norm under an injected clock, once per homebound period, tells the holder the
minimal dataset with the involved organisations of 5.2 and the reporter to whom it escalated,
each under its own pseudonym and case_ref; it stops at the placement in the report's own
transaction; exemptions never escalate; a suspended holder is told after its reactivation.

The world below (used by test_reminders.py and test_run.py too): the organisations of
``tests/exchange_helpers.py`` plus a Lekstroom leerplicht, school and SWV (the Lekstroom holder),
the regions groningen (91 days, holder the Groningen SWV) and lekstroom (42 days, holder SWV VO
Zuid Utrecht) written straight into the registry tables, and an exchange service whose observer
is the one the composition root builds (facts, then the placement observer)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

from consent.interfaces import NoConsentRegistry
from gateway import metrics
from gateway.audit.actors import OPERATOR, Actor
from gateway.audit.log import AuditLog
from gateway.audit.models import AuditEventRow
from gateway.consents.models import ConsentRow
from gateway.exchange.generated import NewMessage, insert_message
from gateway.exchange.observers import CompositeObserver
from gateway.exchange.service import ExchangeService
from gateway.keys import KeyStore
from gateway.monitoring.facts import FactRecorder
from gateway.pact.escalation import EscalationService, due_facts
from gateway.pact.models import PactCase, PactEscalation, PactParticipant
from gateway.pact.placement_observer import PlacementObserver
from gateway.pact.reminders import ReminderService
from gateway.pact.run import PactRun
from gateway.registry.models import OrganisationArea, Region, RegionMunicipality
from gateway.registry.service import OrganisationRegistry
from gateway.sealing import MESSAGES, Sealer
from gateway.storage.database import Database
from gateway.transaction import new as new_transaction_id
from pseudonymise import Bsn, DomainPseudonymiser, organisation_domain
from tests import exchange_helpers as ex

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
LEK_LP = "00000001007000000001"
LEK_SCHOOL = "00000001007000000002"
LEK_SWV = "00000001007000000003"
LEKSTROOM_BASIS = (
    "Convenant Thuiszittersaanpak Lekstroom 2017-2020: regie en doorzettingsmacht "
    "(AVG art. 6 lid 1 onder e)"
)
GRONINGEN_BASIS = (
    "Thuiszitterspact 2.0 Groningen 2021-2024: regionale afspraken over regie en "
    "doorzettingsmacht (AVG art. 6 lid 1 onder e)"
)
ORGANISATIONS = [
    *ex.ORGANISATIONS,
    (LEK_LP, "Gemeente Nieuwegein Leerplicht", "leerplicht"),
    (LEK_SCHOOL, "Cals College Nieuwegein", "school"),
    (LEK_SWV, "SWV VO Zuid Utrecht", "swv"),
]


def local(day: date, hh: int = 6, mm: int = 0, ss: int = 0) -> datetime:
    """A moment of ``day`` in Europe/Amsterdam, as UTC."""
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=AMSTERDAM).astimezone(UTC)


@dataclass(frozen=True)
class Caller:
    client_id: str
    org_id: int
    org_oin: str
    org_type: str
    org_name: str
    scopes: frozenset = frozenset({"exchange:send", "exchange:receive"})


@dataclass
class World:
    db: Database
    registry: OrganisationRegistry
    orgs: dict
    pseudonymiser: DomainPseudonymiser
    sealer: Sealer
    audit: AuditLog
    exchanges: ExchangeService
    escalations: EscalationService
    reminders: ReminderService
    run: PactRun
    clock: dict = field(default_factory=dict)

    def caller(self, oin: str) -> Caller:
        org = self.orgs[oin]
        return Caller(f"c-{oin[-4:]}", org.id, org.oin, org.type, org.name)

    def send(
        self,
        sender: str,
        message_type: str,
        recipient: str,
        payload: dict,
        at: datetime,
        bsn: str = ex.BSN,
    ) -> dict:
        self.clock["now"] = at
        body = {
            "message_type": message_type,
            "recipient": recipient,
            "subject": {"bsn": bsn},
            "payload": payload,
        }
        return self.exchanges.send(
            self.caller(sender), lambda: body, new_transaction_id(), new_transaction_id()
        )

    def inbox(self, oin: str) -> list[dict]:
        """Every unacknowledged item of ``oin`` (listing does not remove it)."""
        return self.exchanges.inbox(self.caller(oin), None, 100)["items"]

    def pseudonym(self, oin: str, bsn: str = ex.BSN) -> str:
        return self.pseudonymiser.pseudonymise(Bsn(bsn), organisation_domain(oin))

    def subject_ref(self, bsn: str = ex.BSN) -> str:
        return self.pseudonymiser.pseudonymise(Bsn(bsn), "audit")


def build_world(database_url: str, keys_dir) -> World:
    db = Database(database_url)
    registry = OrganisationRegistry(db, production=False)
    orgs = {oin: registry.add_organisation(oin, name, type_) for oin, name, type_ in ORGANISATIONS}
    with db.write_session() as session:
        regions = {}
        for code, name, norm, holder, basis, municipalities in (
            ("groningen", "Thuiszitterspact 2.0 Groningen", 91, ex.SWV, GRONINGEN_BASIS, ["0014"]),
            ("lekstroom", "Thuiszittersaanpak Lekstroom", 42, LEK_SWV, LEKSTROOM_BASIS, ["0356"]),
        ):
            regions[code] = session.execute(
                insert(Region).returning(Region.id),
                {
                    "code": code,
                    "name": name,
                    "homebound_norm_days": norm,
                    "escalation_org_id": orgs[holder].id,
                    "escalation_basis": basis,
                },
            ).scalar_one()
            for municipality in municipalities:
                session.execute(
                    insert(RegionMunicipality),
                    {"region_id": regions[code], "municipality": municipality},
                )
        for oin, kind, code in (
            (ex.LEERPLICHT, "municipality", "0014"),
            (LEK_LP, "municipality", "0356"),
            (ex.SWV, "region", "groningen"),
            (LEK_SWV, "region", "lekstroom"),
        ):
            session.execute(
                insert(OrganisationArea),
                {"org_id": orgs[oin].id, "kind": kind, "code": code, "sectors": None},
            )
    keyring = KeyStore(keys_dir, allow_generate=False).keyring
    pseudonymiser, sealer, audit = (
        DomainPseudonymiser(keyring),
        Sealer(keyring, MESSAGES),
        AuditLog(),
    )
    clock: dict = {"now": datetime(2027, 1, 1, tzinfo=UTC)}
    escalations = EscalationService(db, pseudonymiser, sealer, audit)
    reminders = ReminderService(db, pseudonymiser, sealer, audit)
    exchanges = ExchangeService(
        db,
        pseudonymiser,
        NoConsentRegistry(),
        sealer,
        audit,
        lambda: clock["now"],
        observer=CompositeObserver([FactRecorder(), PlacementObserver(escalations)]),
    )
    run = PactRun(db, audit, lambda: clock["now"], escalations, reminders)
    return World(
        db,
        registry,
        orgs,
        pseudonymiser,
        sealer,
        audit,
        exchanges,
        escalations,
        reminders,
        run,
        clock,
    )


def homebound(
    since: date,
    category: str = "long_relative_absence",
    perspective: str = "none",
    placed: date | None = None,
    born: str = "2012-06-01",
) -> dict:
    payload = {
        "category": category,
        "since_date": since.isoformat(),
        "education_sector": "vo",
        "date_of_birth": born,
        "perspective": perspective,
    }
    if placed is not None:
        payload["placed_date"] = placed.isoformat()
    return payload


def days(n: int) -> timedelta:
    return timedelta(days=n)


# ---------------------------------------------------------------------------------------------
TODAY = date(2027, 2, 21)
ITEM_KEYS = ("message_type", "sender", "subject", "payload", "purpose", "legal_basis")
OPERATOR_ENTRY = {"oin": ex.OPERATOR, "name": "Gateway Beheer", "type": "operator"}
RUNNER = Actor(None, OPERATOR, user="test")


@pytest.fixture
def world(database_url, keys_dir):
    built = build_world(database_url, keys_dir)
    yield built
    built.db.dispose()


def shown(items: list[dict], *types: str) -> list[dict]:
    """The items of ``types``, as the comparison reads them."""
    return [
        {key: item[key] for key in ITEM_KEYS} for item in items if item["message_type"] in types
    ]


def refs(world: World) -> dict[str, str]:
    """Each participant's case_ref, by OIN (what the test collects to substitute)."""
    with world.db.session() as session:
        rows = session.execute(select(PactParticipant.org_id, PactParticipant.case_ref)).all()
    by_id = {org.id: oin for oin, org in world.orgs.items()}
    return {by_id[org_id]: ref for org_id, ref in rows}


def events(world: World, action: str) -> list[tuple]:
    with world.db.session() as session:
        return [
            tuple(row)
            for row in session.execute(
                select(AuditEventRow.sender, AuditEventRow.recipient, AuditEventRow.decision)
                .where(AuditEventRow.action == action)
                .order_by(AuditEventRow.seq)
            ).all()
        ]


def report_at_lekstroom(world: World, since: date, **kwargs) -> dict:
    """The Lekstroom leerplicht reports the child at home to SWV VO Zuid Utrecht today."""
    return world.send(
        LEK_LP, "homebound_report", LEK_SWV, homebound(since, **kwargs), local(TODAY, 10)
    )


def test_due_only_at_the_norm_for_escalating_categories_not_placed():
    @dataclass
    class Fact:
        category: str
        since_date: date
        placed_date: date | None = None

    def norm(_):
        return 42

    at_41 = Fact("long_relative_absence", TODAY - days(41))
    at_42 = Fact("absolute_absence", TODAY - days(42))
    late = Fact("long_relative_absence", TODAY - days(50))
    exempt = Fact("exemption_5a", TODAY - days(200))
    placed = Fact("long_relative_absence", TODAY - days(60), TODAY - days(1))
    assert due_facts([at_41, at_42, late, exempt, placed], TODAY, norm) == [
        (at_42, 42, 42),
        (late, 42, 50),
    ]
    assert due_facts([at_42], TODAY, lambda _: None) == []  # no region: nothing fires


def test_fires_exactly_at_the_lekstroom_norm_once(world):
    since = TODAY - days(41)
    absence = ex.absence_report(TODAY)
    world.send(LEK_SCHOOL, "absence_report", LEK_LP, absence, local(TODAY, 9))
    report = report_at_lekstroom(world, since)

    before = world.run.run(RUNNER, local(TODAY, 23, 59, 59))
    assert before.escalations.opened == 0
    assert shown(world.inbox(LEK_SWV), "homebound_escalation") == []

    after = world.run.run(RUNNER, local(TODAY + days(1), 0, 0, 1))
    assert after.escalations.opened == 1
    ref = refs(world)
    basis = {"type": "legal_obligation", "citation": LEKSTROOM_BASIS}
    assert shown(world.inbox(LEK_SWV), "homebound_escalation") == [
        {
            "message_type": "homebound_escalation",
            "sender": OPERATOR_ENTRY,
            "subject": {"pseudonym": world.pseudonym(LEK_SWV)},
            "payload": {
                "case_ref": ref[LEK_SWV],
                "region": "lekstroom",
                "norm_days": 42,
                "since_date": since.isoformat(),
                "days_at_home": 42,
                "category": "long_relative_absence",
                "education_sector": "vo",
                "birth_year": 2012,
                "reporter": {
                    "oin": LEK_LP,
                    "name": "Gemeente Nieuwegein Leerplicht",
                    "type": "leerplicht",
                },
                "involved": [
                    {"oin": LEK_SCHOOL, "name": "Cals College Nieuwegein", "type": "school"}
                ],
            },
            "purpose": "homebound_escalation",
            "legal_basis": basis,
        }
    ]
    assert shown(world.inbox(LEK_LP), "homebound_escalation") == [
        {
            "message_type": "homebound_escalation",
            "sender": OPERATOR_ENTRY,
            "subject": {"pseudonym": world.pseudonym(LEK_LP)},
            "payload": {
                "case_ref": ref[LEK_LP],
                "region": "lekstroom",
                "norm_days": 42,
                "since_date": since.isoformat(),
                "days_at_home": 42,
                "holder": {"oin": LEK_SWV, "name": "SWV VO Zuid Utrecht", "type": "swv"},
                "report_id": report["id"],
            },
            "purpose": "homebound_escalation",
            "legal_basis": basis,
        }
    ]
    assert shown(world.inbox(LEK_SCHOOL), "homebound_escalation") == []
    assert ref[LEK_SWV] != ref[LEK_LP]
    # rule 6: holder learned of reporter and of the school; reporter learned of holder
    assert events(world, "case.disclose") == [
        (LEK_LP, LEK_SWV, "allowed"),
        (LEK_SCHOOL, LEK_SWV, "allowed"),
        (LEK_SWV, LEK_LP, "allowed"),
    ]
    assert len(events(world, "escalation.open")) == 1
    with world.db.session() as session:
        case_id = session.scalar(select(PactCase.id))
        tagged = session.scalars(
            select(AuditEventRow.action).where(AuditEventRow.case_id == case_id)
        ).all()
    assert sorted(tagged) == sorted(
        ["escalation.open", "exchange.send", "exchange.send"] + ["case.disclose"] * 3
    )
    assert metrics.PACT_ESCALATIONS_OPEN.labels(region="lekstroom")._value.get() == 1

    # idempotent: the same moment and a later one fire nothing more
    for moment in (local(TODAY + days(1), 0, 0, 1), local(TODAY + days(9))):
        assert world.run.run(RUNNER, moment).escalations.opened == 0
    assert len(shown(world.inbox(LEK_SWV), "homebound_escalation")) == 1
    assert len(shown(world.inbox(LEK_LP), "homebound_escalation")) == 1
    assert len(events(world, "case.disclose")) == 3


def test_fires_exactly_at_the_groningen_norm(world):
    since = TODAY - days(90)
    world.send(
        ex.LEERPLICHT,
        "homebound_report",
        ex.SWV,
        homebound(since, category="absolute_absence"),
        local(TODAY, 10),
    )
    assert world.run.run(RUNNER, local(TODAY, 23, 59, 59)).escalations.opened == 0
    assert world.run.run(RUNNER, local(TODAY + days(1), 0, 0, 1)).escalations.opened == 1
    [item] = shown(world.inbox(ex.SWV), "homebound_escalation")
    assert item["payload"]["region"] == "groningen"
    assert item["payload"]["norm_days"] == 91
    assert item["payload"]["days_at_home"] == 91
    # the holder is also the recipient of the report: not listed as involved, nobody else is
    assert item["payload"]["involved"] == []
    assert item["legal_basis"] == {"type": "legal_obligation", "citation": GRONINGEN_BASIS}


def test_a_run_in_the_past_does_not_see_a_later_report(world):
    report_at_lekstroom(world, TODAY - days(50))  # sent at 10:00 today
    assert world.run.run(RUNNER, local(TODAY, 9)).escalations.opened == 0
    assert world.run.run(RUNNER, local(TODAY, 11)).escalations.opened == 1


def test_stops_at_the_placement_in_the_reports_own_transaction(world):
    since = TODAY - days(45)
    report_at_lekstroom(world, since)
    world.run.run(RUNNER, local(TODAY, 11))
    ref = refs(world)
    placed_on = TODAY + days(4)
    world.send(
        LEK_LP,
        "homebound_report",
        LEK_SWV,
        homebound(since, perspective="placed", placed=placed_on),
        local(placed_on, 12),
    )
    # closed by the send itself, before any run
    with world.db.session() as session:
        case = session.scalars(select(PactCase)).one()
        escalation = session.scalars(select(PactEscalation)).one()
    assert (case.status, case.close_reason) == ("closed", "placed")
    assert escalation.placed_date == placed_on
    assert shown(world.inbox(LEK_SWV), "homebound_escalation_closed") == [
        {
            "message_type": "homebound_escalation_closed",
            "sender": OPERATOR_ENTRY,
            "subject": {"pseudonym": world.pseudonym(LEK_SWV)},
            "payload": {
                "case_ref": ref[LEK_SWV],
                "reason": "placed",
                "placed_date": placed_on.isoformat(),
                "days_at_home": 49,
            },
            "purpose": "homebound_escalation",
            "legal_basis": {"type": "legal_obligation", "citation": LEKSTROOM_BASIS},
        }
    ]
    assert shown(world.inbox(LEK_LP), "homebound_escalation_closed") == []  # it sent the placement
    assert len(events(world, "escalation.close")) == 1
    assert metrics.PACT_ESCALATIONS_OPEN.labels(region="lekstroom")._value.get() == 0
    later = world.run.run(RUNNER, local(placed_on + days(30)))
    assert (later.escalations.opened, later.escalations.closed) == (0, 0)
    assert (
        len(shown(world.inbox(LEK_SWV), "homebound_escalation", "homebound_escalation_closed")) == 2
    )


def test_an_exemption_report_closes_it_as_exempted(world):
    since = TODAY - days(45)
    report_at_lekstroom(world, since)
    world.run.run(RUNNER, local(TODAY, 11))
    world.send(
        LEK_LP,
        "homebound_report",
        LEK_SWV,
        homebound(since, category="exemption_5a"),
        local(TODAY + days(2), 9),
    )
    [item] = shown(world.inbox(LEK_SWV), "homebound_escalation_closed")
    assert item["payload"] == {
        "case_ref": refs(world)[LEK_SWV],
        "reason": "exempted",
        "days_at_home": 47,
    }


def test_exemption_categories_never_escalate(world):
    for category in ("exemption_5a", "exemption_other"):
        world.send(
            LEK_LP,
            "homebound_report",
            LEK_SWV,
            homebound(TODAY - days(200), category=category),
            local(TODAY, 10),
            bsn=ex.BSN if category == "exemption_5a" else ex.OTHER_BSN,
        )
    for moment in (local(TODAY, 11), local(TODAY + days(100)), local(TODAY + days(400))):
        assert world.run.run(RUNNER, moment).escalations.opened == 0
    assert shown(world.inbox(LEK_SWV), "homebound_escalation") == []


def test_placed_before_the_norm_never_fires(world):
    since = TODAY - days(30)
    report_at_lekstroom(world, since, perspective="in_progress")
    world.send(
        LEK_LP,
        "homebound_report",
        LEK_SWV,
        homebound(since, perspective="placed", placed=TODAY + days(5)),
        local(TODAY + days(5)),
    )
    for moment in (local(TODAY + days(12)), local(TODAY + days(100))):
        assert world.run.run(RUNNER, moment).escalations.opened == 0
    assert shown(world.inbox(LEK_SWV), "homebound_escalation", "homebound_escalation_closed") == []


def test_a_suspended_holder_is_told_after_its_reactivation(world):
    since = TODAY - days(42)
    report_at_lekstroom(world, since)
    world.registry.set_status(LEK_SWV, "suspended")
    first = world.run.run(RUNNER, local(TODAY, 11))
    assert (first.escalations.opened, first.escalations.delivered) == (1, 0)
    with world.db.session() as session:
        assert session.scalars(select(PactEscalation.delivered)).one() is False
    assert metrics.PACT_ESCALATIONS_UNDELIVERED._value.get() == 1
    assert (
        shown(world.inbox(LEK_LP), "homebound_escalation")[0]["payload"]["holder"]["oin"] == LEK_SWV
    )
    # only the reporter learned (of the holder); the holder learned nothing yet
    assert events(world, "case.disclose") == [(LEK_SWV, LEK_LP, "allowed")]
    assert world.run.run(RUNNER, local(TODAY + days(1))).escalations.delivered == 0
    world.registry.set_status(LEK_SWV, "active")
    assert world.run.run(RUNNER, local(TODAY + days(3))).escalations.delivered == 1
    assert world.run.run(RUNNER, local(TODAY + days(4))).escalations.delivered == 0
    [item] = shown(world.inbox(LEK_SWV), "homebound_escalation")
    assert item["payload"]["days_at_home"] == 45  # as of its delivery
    assert item["payload"]["case_ref"] == refs(world)[LEK_SWV]
    assert events(world, "case.disclose") == [
        (LEK_SWV, LEK_LP, "allowed"),
        (LEK_LP, LEK_SWV, "allowed"),
    ]
    assert metrics.PACT_ESCALATIONS_UNDELIVERED._value.get() == 0


def test_involved_are_legal_routes_of_12_months_and_consultations_naming_the_holder(world):
    subject_ref = world.subject_ref()
    now = local(TODAY + days(1))
    with world.db.write_session() as session:

        def message(type_, sender, recipient, at, purpose="leerplicht_enforcement"):
            insert_message(
                session,
                world.sealer,
                new_transaction_id(),
                NewMessage(
                    type_,
                    world.orgs[sender].id,
                    world.orgs[recipient].id,
                    purpose,
                    {"type": "consent"},
                    subject_ref,
                    new_transaction_id(),
                    30,
                ),
                {"payload": {}},
                at,
            )

        # a legal route more than 12 months ago: not involved any more
        message("absence_report", ex.SCHOOL, LEK_LP, now - days(400))
        # consent routes and a signal match never count
        message("support_request", ex.SCHOOL, ex.WIJ, now - days(10), "support")
        message("signal_match", ex.OPERATOR, ex.GGD_2, now - days(10), "signal_matching")
        for case_id, parties, accepted in (
            ("c-names-holder", ["school", "ggd", "swv"], ex.GGD),
            ("c-not-holder", ["school", "wij"], ex.WIJ),
        ):
            session.execute(
                insert(ConsentRow),
                {
                    "id": case_id,
                    "subject_ref": "consent-ref",
                    "purpose": "case_consultation",
                    "parties": parties,
                    "grantor_roles": ["parent"],
                    "valid_from": TODAY - days(20),
                    "valid_until": TODAY + days(300),
                    "evidence_method": "paper",
                    "recorded_by_org_id": world.orgs[ex.SCHOOL].id,
                    "created_at": now - days(20),
                    "key_version": 1,
                    "sealed": b"x",
                    "receipt": "r",
                },
            )
            session.execute(
                insert(PactCase),
                {
                    "id": case_id,
                    "kind": "consultation",
                    "status": "agreed",
                    "subject_ref": subject_ref,
                    "convener_org_id": world.orgs[ex.SCHOOL].id,
                    "consent_id": case_id,
                    "purpose": "case_consultation",
                    "created_at": now - days(20),
                    "updated_at": now - days(20),
                },
            )
            for oin, role, status in (
                (ex.SCHOOL, "convener", "convener"),
                (accepted, "invitee", "accepted"),
                (ex.GGD_2, "invitee", "declined"),
            ):
                session.execute(
                    insert(PactParticipant),
                    {
                        "case_id": case_id,
                        "org_id": world.orgs[oin].id,
                        "role": role,
                        "case_ref": new_transaction_id(),
                        "status": status,
                        "joined_at": now - days(20),
                    },
                )
    report_at_lekstroom(world, TODAY - days(42))
    world.run.run(RUNNER, now)
    [item] = shown(world.inbox(LEK_SWV), "homebound_escalation")
    # the GGD accepted a consultation whose consent names the holder's type; the WIJ's
    # consultation's consent does not name it; the declined GGD Drenthe accepted nothing
    assert item["payload"]["involved"] == [{"oin": ex.GGD, "name": "GGD Groningen", "type": "ggd"}]


def test_a_region_without_holder_escalates_nothing(world):
    with world.db.write_session() as session:
        session.execute(Region.__table__.update().values(escalation_org_id=None))
    report_at_lekstroom(world, TODAY - days(60))
    report = world.run.run(RUNNER, local(TODAY, 11))
    assert (report.escalations.opened, report.escalations.unconfigured) == (0, 1)
    with world.db.session() as session:
        assert session.scalars(select(PactCase)).all() == []


def test_the_minimal_dataset_survives_the_holders_acknowledgement_of_the_report(world):
    report = report_at_lekstroom(world, TODAY - days(42))
    world.clock["now"] = local(TODAY, 10, 5)
    world.exchanges.ack(world.caller(LEK_SWV), report["id"])
    world.run.run(RUNNER, local(TODAY, 11))
    [item] = shown(world.inbox(LEK_SWV), "homebound_escalation")
    assert (item["payload"]["education_sector"], item["payload"]["birth_year"]) == ("vo", 2012)
