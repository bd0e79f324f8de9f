"""The exchange service over a real database (SQLite and PostgreSQL), without HTTP.

Consent is given by a small fake checker where a route needs it; the real registry has its
own tests. The expected recipient fields are written out from API.md section 3's table.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from consent.interfaces import ConsentDecision, NoConsentRegistry
from gateway.audit.log import AuditLog
from gateway.audit.models import AuditEventRow
from gateway.exchange.errors import Refusal
from gateway.exchange.models import IdempotencyKey, Message
from gateway.exchange.service import ExchangeService
from gateway.keys import KeyStore
from gateway.problems import GatewayError
from gateway.registry.service import OrganisationRegistry
from gateway.sealing import MESSAGES, Sealer
from gateway.storage.database import Database
from pseudonymise import Bsn, DomainPseudonymiser, organisation_domain
from tests import exchange_helpers as ex

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
TODAY = NOW.date()


@dataclass(frozen=True)
class Caller:
    client_id: str
    org_id: int
    org_oin: str
    org_type: str
    org_name: str
    scopes: frozenset = frozenset({"exchange:send", "exchange:receive"})
    token_jti: str = "t"


class AllowAll:
    def __init__(self):
        self.calls = []

    def check(self, subject_ref, purpose, sender, recipient, at, replying_under=None):
        self.calls.append((subject_ref, purpose, sender, recipient, at))
        return ConsentDecision(True, "consent-1", None)


@pytest.fixture
def world(database_url, keys_dir):
    db = Database(database_url)
    registry = OrganisationRegistry(db, production=False)
    callers = {}
    for oin, name, type_ in ex.ORGANISATIONS:
        org = registry.add_organisation(oin, name, type_)
        callers[oin] = Caller(f"{type_}-client", org.id, oin, type_, name)
    keyring = KeyStore(keys_dir, allow_generate=False).keyring
    pseudonymiser = DomainPseudonymiser(keyring)
    consent = AllowAll()

    def service(checker=None):
        return ExchangeService(
            db, pseudonymiser, checker or consent, Sealer(keyring, MESSAGES), AuditLog(), lambda: NOW
        )

    yield {"db": db, "callers": callers, "service": service, "p": pseudonymiser, "consent": consent}
    db.dispose()


def send(world, sender, message_type, recipient, payload, subject=None, key="k-1", checker=None,
         transaction_id=None):
    """A send with a transaction id of its own (API.md section 13: an id reaches one
    recipient only), or the one given."""
    body = {
        "message_type": message_type,
        "recipient": recipient,
        "subject": subject or {"bsn": ex.BSN},
        "payload": payload,
    }
    return world["service"](checker).send(
        world["callers"][sender], lambda: body, key, transaction_id or str(uuid.uuid4())
    )


def inbox(world, oin):
    return world["service"]().inbox(world["callers"][oin], None, 50)["items"]


ROUTES = [
    # (message_type, sender, recipient, payload factory, identity, expected fields)
    ("absence_report", ex.SCHOOL, ex.LEERPLICHT, ex.absence_report, "bsn",
     {"absence_type", "start_date", "unauthorised_hours_4_weeks", "reason_category",
      "education_sector", "school_brin", "date_of_birth", "grade", "contact", "remarks"}),
    ("absence_report", ex.SCHOOL, ex.SWV, ex.absence_report, "pseudonym",
     {"absence_type", "start_date", "unauthorised_hours_4_weeks", "reason_category",
      "education_sector", "school_brin", "birth_year"}),
    ("sickness_absence_referral", ex.SCHOOL, ex.GGD, ex.sickness_absence_referral, "pseudonym",
     {"sick_days_12_weeks", "sick_reports_12_weeks", "education_sector", "birth_year", "concern",
      "contact"}),
    ("jgz_advice", ex.GGD, ex.SCHOOL, ex.jgz_advice, "pseudonym",
     {"advice", "follow_up_date", "contact"}),
    ("support_request", ex.SCHOOL, ex.WIJ, ex.support_request, "pseudonym",
     {"concern_categories", "urgency", "education_sector", "birth_year", "contact"}),
    ("support_feedback", ex.WIJ, ex.SCHOOL, ex.support_feedback, "pseudonym",
     {"involvement", "contact"}),
    ("homebound_report", ex.LEERPLICHT, ex.SWV, ex.homebound_report, "pseudonym",
     {"category", "since_date", "education_sector", "birth_year", "perspective", "placed_date"}),
]


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r[0]}->{r[2][-9:]}" for r in ROUTES])
def test_every_route_delivers_the_profile_and_identity(world, route):
    message_type, sender, recipient, factory, identity, expected = route
    payload = factory(TODAY)
    answer = send(world, sender, message_type, recipient, payload,
                  transaction_id="0190c4f5-8c6b-7cc0-8000-000000000001")
    assert answer["status"] == "accepted" and answer["recipient"] == recipient
    [item] = inbox(world, recipient)
    assert item["id"] == answer["id"]
    assert set(item["payload"]) == expected
    for name in expected - {"birth_year"}:
        assert item["payload"][name] == payload[name]
    if "birth_year" in expected:
        assert item["payload"]["birth_year"] == int(payload["date_of_birth"][:4])
    if identity == "bsn":
        assert item["subject"] == {"bsn": ex.BSN}
    else:
        pseudonym = item["subject"]["pseudonym"]
        assert ex.BSN not in pseudonym
        revealed = world["p"].reveal(pseudonym, organisation_domain(recipient))
        assert revealed == Bsn(ex.BSN)
    assert item["fsc_transaction_id"] == "0190c4f5-8c6b-7cc0-8000-000000000001"


def test_pseudonyms_are_stable_per_recipient_and_differ_across_recipients(world):
    send(world, ex.SCHOOL, "sickness_absence_referral", ex.GGD, ex.sickness_absence_referral(TODAY), key="a")
    send(world, ex.SCHOOL, "sickness_absence_referral", ex.GGD, ex.sickness_absence_referral(TODAY), key="b")
    send(world, ex.SCHOOL, "sickness_absence_referral", ex.GGD_2, ex.sickness_absence_referral(TODAY), key="c")
    first, second = (i["subject"]["pseudonym"] for i in inbox(world, ex.GGD))
    [other] = (i["subject"]["pseudonym"] for i in inbox(world, ex.GGD_2))
    assert first == second
    assert first != other


def test_reply_by_pseudonym_lands_under_the_schools_pseudonym(world):
    referral = send(world, ex.SCHOOL, "sickness_absence_referral", ex.GGD, ex.sickness_absence_referral(TODAY), key="r")
    [received] = inbox(world, ex.GGD)
    ggd_pseudonym = received["subject"]["pseudonym"]
    advice = dict(ex.jgz_advice(TODAY), in_reply_to=referral["id"])
    send(world, ex.GGD, "jgz_advice", ex.SCHOOL, advice, subject={"pseudonym": ggd_pseudonym}, key="x")
    [reply] = inbox(world, ex.SCHOOL)
    school_pseudonym = world["p"].pseudonymise(Bsn(ex.BSN), organisation_domain(ex.SCHOOL))
    assert reply["subject"] == {"pseudonym": school_pseudonym}
    assert reply["payload"]["in_reply_to"] == referral["id"]


def test_a_reply_to_a_message_received_before_a_master_rotation_is_accepted(world):
    """After a new master key version the GGD's reply names an exchange stored under the old
    one: it is still the same child (helper-3 finding: it was refused unknown_reference)."""
    referral = send(world, ex.SCHOOL, "sickness_absence_referral", ex.GGD,
                    ex.sickness_absence_referral(TODAY), key="r")
    [received] = inbox(world, ex.GGD)
    rotated = DomainPseudonymiser(world["p"].keyring.with_new_version(b"\x07" * 32))
    service = ExchangeService(world["db"], rotated, AllowAll(), Sealer(rotated.keyring, MESSAGES),
                              AuditLog(), lambda: NOW)
    advice = dict(ex.jgz_advice(TODAY), in_reply_to=referral["id"])
    body = {"message_type": "jgz_advice", "recipient": ex.SCHOOL, "subject": received["subject"],
            "payload": advice}
    answer = service.send(world["callers"][ex.GGD], lambda: body, "k-rot", str(uuid.uuid4()))
    assert answer["status"] == "accepted"


def refused(world, *args, **kwargs) -> Refusal:
    with pytest.raises(Refusal) as caught:
        send(world, *args, **kwargs)
    return caught.value


def assert_nothing_stored_and_audited(world, code):
    with world["db"].session() as session:
        assert session.scalars(select(Message)).all() == []
        assert session.scalars(select(IdempotencyKey)).all() == []
        events = session.scalars(select(AuditEventRow)).all()
    assert len(events) == 1
    assert events[0].decision == "denied"
    assert f'"reason":"{code}"' in events[0].canonical
    assert ex.BSN not in events[0].canonical


def test_unknown_recipient(world):
    error = refused(world, ex.SCHOOL, "absence_report", "00000009999999999999", ex.absence_report(TODAY))
    assert (error.status, error.code) == (404, "unknown_recipient")
    assert_nothing_stored_and_audited(world, "unknown_recipient")


def test_suspended_recipient(world):
    OrganisationRegistry(world["db"], production=False).set_status(ex.LEERPLICHT, "suspended")
    error = refused(world, ex.SCHOOL, "absence_report", ex.LEERPLICHT, ex.absence_report(TODAY))
    assert (error.status, error.code) == (403, "recipient_suspended")
    assert_nothing_stored_and_audited(world, "recipient_suspended")


@pytest.mark.parametrize(
    ("message_type", "sender", "recipient"),
    [
        ("absence_report", ex.SCHOOL, ex.GGD),
        ("jgz_advice", ex.SCHOOL, ex.GGD),
        ("signal_match", ex.SCHOOL, ex.WIJ),
        ("signal_match", ex.OPERATOR, ex.WIJ),
        ("homebound_report", ex.SCHOOL, ex.SWV),
    ],
)
def test_route_not_allowed(world, message_type, sender, recipient):
    error = refused(world, sender, message_type, recipient, {"anything": 1})
    assert (error.status, error.code) == (403, "route_not_allowed")
    assert_nothing_stored_and_audited(world, "route_not_allowed")


def test_invalid_bsn_is_validation_failed_without_the_bsn(world):
    error = refused(world, ex.SCHOOL, "absence_report", ex.LEERPLICHT, ex.absence_report(TODAY),
                    subject={"bsn": "111222334"})
    assert (error.status, error.code) == (422, "validation_failed")
    assert list(error.errors) == ["subject.bsn"]
    assert "111222334" not in str(error.errors)
    assert_nothing_stored_and_audited(world, "validation_failed")


def test_unknown_field_wrong_enum_missing_field(world):
    payload = ex.absence_report(TODAY)
    payload["diagnosis"] = "x"
    payload["absence_type"] = "sometimes"
    del payload["school_brin"]
    error = refused(world, ex.SCHOOL, "absence_report", ex.LEERPLICHT, payload)
    assert error.code == "validation_failed"
    assert {"payload.diagnosis", "payload.absence_type", "payload.school_brin"} <= set(error.errors)


def test_pseudonym_of_another_domain_is_unknown(world):
    ggd_pseudonym = world["p"].pseudonymise(Bsn(ex.BSN), organisation_domain(ex.GGD))
    error = refused(world, ex.SCHOOL, "absence_report", ex.LEERPLICHT, ex.absence_report(TODAY),
                    subject={"pseudonym": ggd_pseudonym})
    assert (error.status, error.code) == (422, "unknown_pseudonym")
    assert_nothing_stored_and_audited(world, "unknown_pseudonym")


def test_in_reply_to_must_be_received_about_the_same_child(world):
    referral = send(world, ex.SCHOOL, "sickness_absence_referral", ex.GGD, ex.sickness_absence_referral(TODAY), key="r")
    advice = dict(ex.jgz_advice(TODAY), in_reply_to=referral["id"])
    error = refused(world, ex.GGD, "jgz_advice", ex.SCHOOL, advice, subject={"bsn": ex.OTHER_BSN}, key="y")
    assert (error.status, error.code) == (422, "unknown_reference")
    assert "payload.in_reply_to" in error.errors


def test_consent_routes_fail_closed_without_a_registry(world):
    error = refused(world, ex.SCHOOL, "support_request", ex.WIJ, ex.support_request(TODAY),
                    checker=NoConsentRegistry())
    assert (error.status, error.code) == (403, "consent_missing")
    assert_nothing_stored_and_audited(world, "consent_missing")


def test_consent_check_gets_the_consent_pseudonym_not_the_bsn(world):
    send(world, ex.SCHOOL, "support_request", ex.WIJ, ex.support_request(TODAY))
    [(subject_ref, purpose, sender, recipient, at)] = world["consent"].calls
    assert subject_ref == world["p"].pseudonymise(Bsn(ex.BSN), "consent")
    assert (purpose, sender.type, recipient.oin, at) == ("support", "school", ex.WIJ, NOW)


def test_idempotent_repeat_and_reuse_with_another_body(world):
    first = send(world, ex.SCHOOL, "absence_report", ex.LEERPLICHT, ex.absence_report(TODAY), key="same")
    again = send(world, ex.SCHOOL, "absence_report", ex.LEERPLICHT, ex.absence_report(TODAY), key="same")
    assert again == first
    other = ex.absence_report(TODAY)
    other["unauthorised_hours_4_weeks"] = 43
    error = refused(world, ex.SCHOOL, "absence_report", ex.LEERPLICHT, other, key="same")
    assert (error.status, error.code) == (409, "idempotency_key_reused")
    with world["db"].session() as session:
        assert len(session.scalars(select(Message)).all()) == 1


def test_refused_request_does_not_use_up_its_key(world):
    refused(world, ex.SCHOOL, "absence_report", "00000009999999999999", ex.absence_report(TODAY), key="k")
    answer = send(world, ex.SCHOOL, "absence_report", ex.LEERPLICHT, ex.absence_report(TODAY), key="k")
    assert answer["status"] == "accepted"


def test_keys_are_scoped_to_the_sending_organisation(world):
    a = send(world, ex.SCHOOL, "absence_report", ex.LEERPLICHT, ex.absence_report(TODAY), key="shared")
    b = send(world, ex.LEERPLICHT, "homebound_report", ex.SWV, ex.homebound_report(TODAY), key="shared")
    assert a["id"] != b["id"]


@pytest.mark.parametrize("key", [None, "", "x" * 129, "has space", "tab\t", "é"])
def test_bad_idempotency_keys(world, key):
    error = refused(world, ex.SCHOOL, "absence_report", ex.LEERPLICHT, ex.absence_report(TODAY), key=key)
    assert error.status == 400
    assert error.code == ("idempotency_key_missing" if key is None else "idempotency_key_invalid")


def test_payload_is_encrypted_at_rest_and_erased_on_ack(world):
    answer = send(world, ex.SCHOOL, "absence_report", ex.LEERPLICHT, ex.absence_report(TODAY))
    with world["db"].session() as session:
        stored = session.scalars(select(Message)).one()
    assert ex.BSN.encode() not in stored.ciphertext
    assert b"Regenboog" not in stored.ciphertext and b"12AB" not in stored.ciphertext
    service = world["service"]()
    caller = world["callers"][ex.LEERPLICHT]
    first = service.ack(caller, answer["id"])
    assert first["status"] == "acknowledged"
    assert service.ack(caller, answer["id"]) == first
    with world["db"].session() as session:
        stored = session.scalars(select(Message)).one()
    assert stored.ciphertext is None and stored.status == "acknowledged"
    assert inbox(world, ex.LEERPLICHT) == []


def test_ack_and_status_of_another_organisations_exchange_are_not_found(world):
    answer = send(world, ex.SCHOOL, "absence_report", ex.LEERPLICHT, ex.absence_report(TODAY))
    service = world["service"]()
    for outsider in (ex.SWV, ex.GGD):
        with pytest.raises(Refusal) as caught:
            service.ack(world["callers"][outsider], answer["id"])
        assert caught.value.code == "not_found"
        with pytest.raises(Refusal) as caught:
            service.status(world["callers"][outsider], answer["id"])
        assert caught.value.code == "not_found"
    status = service.status(world["callers"][ex.SCHOOL], answer["id"])
    assert set(status) == {"id", "message_type", "sender", "recipient", "status", "created_at",
                           "delivered_at", "acknowledged_at"}


def test_audit_events_chain_and_name_the_fields(world):
    send(world, ex.SCHOOL, "absence_report", ex.SWV, ex.absence_report(TODAY))
    with world["db"].session() as session:
        [event] = session.scalars(select(AuditEventRow)).all()
    import hashlib
    import json

    document = json.loads(event.canonical)
    assert document["prev_hash"] == "0" * 64
    assert hashlib.sha256(event.canonical.encode()).hexdigest() == event.hash
    assert document["fields_generalised"] == ["date_of_birth->birth_year"]
    assert "birth_year" in document["fields_forwarded"]
    assert set(document["fields_dropped"]) == {"grade", "contact", "remarks"}
    assert "subject_ref" not in document  # the global child value is not hashed (s13 rule 1)
    assert event.subject_ref == world["p"].pseudonymise(Bsn(ex.BSN), "audit")
    opened = hashlib.sha256(b"thuiszitterspact/audit-subject/v1\x00"
                            + bytes.fromhex(event.subject_opening)
                            + event.subject_ref.encode()).hexdigest()
    assert document["subject_commitment"] == opened


def test_inbox_cursor_pages_oldest_first(world):
    ids = [send(world, ex.SCHOOL, "absence_report", ex.LEERPLICHT, ex.absence_report(TODAY), key=f"p{i}")["id"] for i in range(5)]
    service = world["service"]()
    caller = world["callers"][ex.LEERPLICHT]
    page = service.inbox(caller, None, 2)
    seen = [i["id"] for i in page["items"]]
    while page["next_cursor"]:
        page = service.inbox(caller, page["next_cursor"], 2)
        seen += [i["id"] for i in page["items"]]
    assert seen == ids
    with pytest.raises(GatewayError) as caught:
        service.inbox(caller, "not-a-cursor!", 2)
    assert caught.value.code == "invalid_parameter"


def test_canonical_form_is_exactly_jcs_of_the_event(world):
    """The placeholder filling under the lock must give the same bytes as serialising the
    finished event (recomputed here independently with rfc8785)."""
    import json

    import rfc8785

    send(world, ex.SCHOOL, "absence_report", ex.LEERPLICHT, ex.absence_report(TODAY), key="1")
    send(world, ex.SCHOOL, "absence_report", ex.LEERPLICHT, ex.absence_report(TODAY), key="2")
    with world["db"].session() as session:
        rows = session.scalars(select(AuditEventRow).order_by(AuditEventRow.seq)).all()
    assert [r.seq for r in rows] == [1, 2]
    for row in rows:
        assert rfc8785.dumps(json.loads(row.canonical)).decode() == row.canonical
    assert json.loads(rows[1].canonical)["prev_hash"] == rows[0].hash


def test_retention_erases_and_dead_letters_unacknowledged_messages(world):
    from datetime import timedelta

    from gateway.exchange.retention import purge_expired

    kept = send(world, ex.SCHOOL, "absence_report", ex.LEERPLICHT, ex.absence_report(TODAY), key="1")
    acked = send(world, ex.SCHOOL, "absence_report", ex.SWV, ex.absence_report(TODAY), key="2")
    world["service"]().ack(world["callers"][ex.SWV], acked["id"])
    assert purge_expired(world["db"], AuditLog(), NOW + timedelta(days=364)) == 0
    assert purge_expired(world["db"], AuditLog(), NOW + timedelta(days=366)) == 1
    with world["db"].session() as session:
        message = session.scalars(select(Message).where(Message.id == kept["id"])).one()
        events = session.scalars(select(AuditEventRow).where(AuditEventRow.action == "exchange.dead_letter")).all()
    assert message.ciphertext is None and message.status == "dead_lettered"
    assert len(events) == 1 and '"reason":"retention_expired"' in events[0].canonical
    assert inbox(world, ex.LEERPLICHT) == []


def test_bsn_with_weighted_sum_zero_is_refused_as_invalid_not_a_crash(world):
    # 100000009: 9*1 - 9 = 0, divisible by 11 but never issued; the schema and the
    # pseudonymiser must agree, or the pipeline would crash after the schema step
    error = refused(world, ex.SCHOOL, "absence_report", ex.LEERPLICHT, ex.absence_report(TODAY),
                    subject={"bsn": "100000009"})
    assert (error.status, error.code) == (422, "validation_failed")
    assert list(error.errors) == ["subject.bsn"]
