"""The register of processing activities as a plain service (``gateway.processing``): the id
scheme, the categories of personal data from a route's profile, the generated types' policies,
the Dutch names of every code it answers.

Expected values are written by hand from ``gateway/policies/routes.yaml``, ``signals.yaml``,
``retention.yaml`` and API.md section 3.
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
import yaml
from sqlalchemy import delete, select

from gateway.exchange.models import RoutePolicyRow
from gateway.exchange.routes import shipped_route_rows
from gateway.monitoring.alerts import _alert_message
from gateway.processing import dutch, ids
from gateway.processing.register import (
    DATA_SUBJECTS,
    IDENTITIES,
    PURPOSE_TEXTS,
    SECURITY_MEASURES,
    ProcessingRegister,
)
from gateway.registry.models import Region
from gateway.retention.policy import SHIPPED_POLICY, load_retention_policy, parse_retention_policy
from gateway.signals.policy import load_signal_policy
from gateway.storage.database import Database
from gateway.storage.models import Organisation, utcnow
from gateway.web import vocabulary
from schemas.vocabulary import PURPOSES
from tests.saml_helpers import migrated_sqlite

BASE = "https://gateway.example.nl"


@pytest.fixture
def db(tmp_path):
    database = Database(migrated_sqlite(tmp_path))
    yield database
    database.dispose()


def register(db, retention=None) -> ProcessingRegister:
    return ProcessingRegister(
        db, retention or load_retention_policy(), load_signal_policy(), BASE + "/"
    )


def by_id(activities: list[dict]) -> dict[str, dict]:
    return {activity["id"]: activity for activity in activities}


def test_the_id_scheme():
    assert (
        ids.route_activity_id("leerplicht_enforcement", "absence_report", "school", "leerplicht")
        == "leerplicht_enforcement.absence_report.school-leerplicht"
    )
    assert ids.generated_activity_id("signal_matching", "signal_match") == (
        "signal_matching.signal_match.gateway"
    )
    assert ids.activity_uri(BASE + "/", "gateway.audit_log") == (
        "https://gateway.example.nl/api/v1/processing-activities/gateway.audit_log"
    )
    for good in ("gateway.sign_in", "mazl.jgz_advice.ggd-school", "a.b.gateway"):
        assert ids.ID_PATTERN.fullmatch(good), good
    for bad in ("", "gateway", "Gateway.sign_in", "a/b.c", "a b.c", "a.b.c.d", "a.b.c-d-e", "1.a"):
        assert not ids.ID_PATTERN.fullmatch(bad), bad


def test_every_id_of_the_register_fits_the_scheme_and_is_unique(db):
    activities = register(db).activities()
    found = [activity["id"] for activity in activities]
    assert len(found) == len(set(found))
    assert all(ids.ID_PATTERN.fullmatch(activity_id) for activity_id in found)
    assert [a["uri"] for a in activities] == [f"{BASE}{ids.PATH}/{i}" for i in found]


def test_ids_and_order_do_not_depend_on_database_ids(db):
    """The same policy written in another order, under other row ids (another deployment),
    gives the same register."""
    first = register(db).activities()
    with db.write_session() as session:
        session.execute(delete(RoutePolicyRow))
        for number, row in enumerate(reversed(shipped_route_rows())):
            session.add(RoutePolicyRow(id=1000 + number, **row, updated_at=utcnow()))
    assert register(db).activities() == first


def test_a_route_entry_from_its_profile(db):
    """routes.yaml: sickness_absence_referral school -> ggd, consent, pseudonym, keeps six
    fields, generalises the date of birth, 180 days; mazl's audit term is 730 days."""
    entry = register(db).activity("mazl.sickness_absence_referral.school-ggd")
    assert entry["kind"] == "route"
    assert entry["legal_basis"]["type"] == "consent" and entry["legal_basis"]["citation"] is None
    data = entry["personal_data"]
    assert data["identity"] == "pseudonym" and data["polymorphic_allowed"] is True
    assert data["kept"] == [
        "sick_days_12_weeks",
        "sick_reports_12_weeks",
        "education_sector",
        "concern",
        "contact",
    ]
    assert data["generalised"] == [{"field": "date_of_birth", "as": "birth_year"}]
    assert data["dropped"] == []
    assert [s["code"] for s in entry["data_subjects"]] == ["children", "staff"]  # the contact
    assert entry["retention"]["days"] == 180
    assert entry["retention"]["audit_reference_days"] == {"min": 730, "max": 730}
    assert entry["recipients"] == ["ggd"]


def test_a_keep_all_route_keeps_every_field_and_says_the_bsn(db):
    entry = register(db).activity("leerplicht_enforcement.absence_report.school-leerplicht")
    data = entry["personal_data"]
    assert data["kept"] == [
        "absence_type",
        "start_date",
        "unauthorised_hours_4_weeks",
        "reason_category",
        "education_sector",
        "school_brin",
        "date_of_birth",
        "grade",
        "contact",
        "remarks",
    ]
    assert data["dropped"] == [] and data["generalised"] == []
    assert data["identity"] == "bsn" and data["polymorphic_allowed"] is False
    assert entry["legal_basis"]["citation"] == "Leerplichtwet 1969 art. 21a"
    assert "pseudonymisation" not in [m["code"] for m in entry["security_measures"]]


def test_every_field_of_a_route_is_in_exactly_one_category(db):
    from schemas.messages import MESSAGE_SCHEMAS

    for entry in register(db).activities():
        if entry["kind"] != "route":
            continue
        data = entry["personal_data"]
        names = data["kept"] + [g["field"] for g in data["generalised"]] + data["dropped"]
        assert sorted(names) == sorted(MESSAGE_SCHEMAS[entry["message_type"]]().fields)


def test_the_homebound_alert_entry_says_what_an_alert_is_written_with():
    """The register's term, purpose and basis of ``homebound_alert`` are those the monitoring
    service writes an alert with."""
    org = SimpleNamespace(id=1, oin="00000001006789012000")
    fact = SimpleNamespace(
        subject_ref="ref", since_date=date(2026, 9, 1), category="absolute_absence", message_id="m"
    )
    alert = _alert_message(
        org, org, "pseudonym", fact, ("approaching_6_weeks", date(2026, 10, 13), 40)
    )
    db = SimpleNamespace()
    activities = ProcessingRegister(db, load_retention_policy(), load_signal_policy(), BASE)
    entry = activities._generated(
        "homebound_alert", SimpleNamespace(routes=[], escalation_bases=[], escalation_holders=[])
    )
    assert entry["retention"]["days"] == alert.retention_days
    assert entry["purpose"]["code"] == alert.purpose
    assert entry["legal_basis"]["citation"] == alert.legal_basis["citation"]
    assert entry["personal_data"]["kept"] == list(alert.payload)


def test_the_escalation_names_the_regions_holder_and_agreement(db):
    before = by_id(register(db).activities())
    escalation = before["homebound_escalation.homebound_escalation.gateway"]
    assert escalation["recipients"] == ["leerplicht"]  # the reporter of homebound_report
    assert escalation["legal_basis"]["citation"] is None
    with db.write_session() as session:
        holder = Organisation(oin="00000001002345678000", name="SWV", type="swv")
        session.add(holder)
        session.flush()
        session.add(
            Region(
                code="groningen",
                name="Groningen",
                homebound_norm_days=91,
                escalation_org_id=holder.id,
                escalation_basis="Thuiszitterspact Groningen 2.0, art. 4",
            )
        )
    after = by_id(register(db).activities())
    for closed in ("homebound_escalation", "homebound_escalation_closed"):
        entry = after[f"homebound_escalation.{closed}.gateway"]
        assert entry["recipients"] == ["swv", "leerplicht"]
        assert entry["legal_basis"]["citation"] == "Thuiszitterspact Groningen 2.0, art. 4"


def test_terms_come_from_the_retention_policy(db):
    document = yaml.safe_load(SHIPPED_POLICY.read_text())
    document["consents_days_after_end"] = 400
    document["audit_subject_days"]["support"] = 999
    activities = by_id(register(db, parse_retention_policy(document)).activities())
    assert activities["gateway.consent_registry"]["retention"]["days"] == 400
    support = activities["support.support_request.school-wij"]["retention"]
    assert support["audit_reference_days"] == {"min": 999, "max": 999}
    audit = activities["gateway.audit_log"]["retention"]["audit_reference_days"]
    assert audit == {"min": 730, "max": 1826}


def test_an_unknown_or_malformed_id_is_none(db):
    registry = register(db)
    for unknown in ("gateway.nothing", "mazl.absence_report.school-ggd", "../etc", "", "x" * 500):
        assert registry.activity(unknown) is None


def test_english_texts_and_dutch_names_cover_every_code(db):
    assert set(PURPOSES) <= set(PURPOSE_TEXTS)
    assert set(PURPOSE_TEXTS) == set(PURPOSES) | set(dutch.PURPOSES)
    assert set(dutch.SECURITY_MEASURES) == set(SECURITY_MEASURES)
    assert set(dutch.DATA_SUBJECTS) == set(DATA_SUBJECTS)
    assert set(dutch.IDENTITIES) == set(IDENTITIES)
    assert set(dutch.OWN_ACTIVITIES) == set(ids.OWN_ACTIVITIES)
    for entry in register(db).activities():
        assert entry["purpose"]["code"] in dutch.PURPOSES or (
            entry["purpose"]["code"] in vocabulary.PURPOSES
        )
        assert entry["retention"]["counted_from"] in dutch.COUNTED_FROM
        data = entry["personal_data"]
        names = [*data["kept"], *data["dropped"], *data["added_by_gateway"]]
        names += [name for g in data["generalised"] for name in (g["field"], g["as"])]
        for name in names:
            assert name in dutch.ITEMS or name in vocabulary.FIELDS, (entry["id"], name)
        for org_type in [*entry["recipients"], *entry["roles"]["controllers"]]:
            assert org_type in vocabulary.ORGANISATION_TYPES
        if entry["message_type"]:
            assert entry["message_type"] in vocabulary.MESSAGE_TYPES


def test_the_register_reads_the_route_table_now(db):
    """No cache: a row changed in the database is in the next answer."""
    registry = register(db)
    assert registry.activity("support.support_feedback.wij-school")["retention"]["days"] == 180
    with db.write_session() as session:
        row = session.scalars(
            select(RoutePolicyRow).where(RoutePolicyRow.message_type == "support_feedback")
        ).one()
        row.retention_days = 30
    assert registry.activity("support.support_feedback.wij-school")["retention"]["days"] == 30
