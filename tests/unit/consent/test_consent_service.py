"""ConsentService with an in-memory store, a fake signer and a clock moved by hand."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from consent.errors import ConsentNotFoundError, GrantorInvalidError, WithdrawNotAllowedError
from consent.interfaces import Party
from consent.records import Actor, NewConsent
from consent.service import ConsentService
from consent.subjects import DomainSubjects
from pseudonymise import Bsn, DomainPseudonymiser, KeyRing

BSN = Bsn("111222333")
OTHER_BSN = Bsn("123456782")
SCHOOL = Actor("00000001001234567000", "school", 1, "sis")
GGD = Actor("00000001003456789000", "ggd", 2, "ggd-client")
WIJ = Actor("00000001004567890000", "wij", 3, "wij-client")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


class MemoryStore:
    """ConsentStore in memory: records events and history like the SQL store does."""

    def __init__(self) -> None:
        self.consents: dict[str, object] = {}
        self.details: dict[str, object] = {}
        self.history: list = []
        self.events: list = []

    def for_subject(self, subject_refs, purpose=None):
        return [
            c for c in self.consents.values()
            if c.subject_ref in subject_refs and (purpose is None or c.purpose == purpose)
        ]

    def get(self, consent_id):
        return self.consents.get(consent_id)

    @contextmanager
    def transaction(self, event):
        self.events.append(event)
        yield self

    def add(self, consent, details, entry):
        self.consents[consent.id] = replace(consent, seq=len(self.consents) + 1)
        self.details[consent.id] = details
        self.history.append(entry)

    def withdraw(self, entry):
        self.consents[entry.consent_id] = replace(
            self.consents[entry.consent_id], withdrawn_at=entry.at
        )
        self.history.append(entry)
        return self.consents[entry.consent_id]

    def supersede(self, entry):
        self.consents[entry.consent_id] = replace(
            self.consents[entry.consent_id],
            superseded_at=entry.at,
            superseded_by=entry.related_consent_id,
        )
        self.history.append(entry)


class Knowledge:
    """SubjectKnowledge and ExchangeRecord as sets the test fills in."""

    def __init__(self) -> None:
        self.had: set[tuple[str, str]] = set()
        self.received: set[tuple[str, str]] = set()

    def had_bsn(self, org_oin, child):
        return (org_oin, child.digits) in self.had

    def received_under(self, org_oin, consent_ids):
        return {c for c in consent_ids if (org_oin, c) in self.received}


class Signer:
    def __init__(self) -> None:
        self.signed = []

    def sign(self, claims, token_type):
        self.signed.append((claims, token_type))
        return f"receipt-{claims['jti']}"


@pytest.fixture
def clock():
    return Clock(datetime(2025, 6, 15, 8, tzinfo=UTC))


@pytest.fixture
def keyring():
    return KeyRing.generate()


@pytest.fixture
def knowledge():
    return Knowledge()


@pytest.fixture
def registry(clock, keyring, knowledge):
    store, signer = MemoryStore(), Signer()
    subjects = DomainSubjects(DomainPseudonymiser(keyring), "consent")
    service = ConsentService(store, signer, subjects, clock, "https://gw.example",
                             knowledge=knowledge, exchanges=knowledge)
    return service, store, signer


def new_consent(**changes) -> NewConsent:
    base = NewConsent(
        bsn=BSN,
        date_of_birth=date(2013, 9, 1),  # 11 on 2025-06-15
        purpose="mazl",
        parties=("school", "ggd"),
        grantor_roles=("parent",),
        valid_from=date(2025, 6, 1),
        valid_until=date(2025, 12, 31),
        evidence_method="written",
        evidence_reference="form 17",
    )
    return replace(base, **changes)


def allowed(service, clock, sender=SCHOOL, recipient=GGD, purpose="mazl", bsn=BSN,
            replying_under=None):
    ref = service.subjects.refs(bsn)[0]
    return service.check(
        ref, purpose, Party(sender.org_oin, sender.org_type),
        Party(recipient.org_oin, recipient.org_type), clock(), replying_under=replying_under,
    )


def test_record_stores_pseudonym_details_history_event_and_receipt(registry, clock):
    service, store, signer = registry
    consent = service.record(new_consent(), SCHOOL, "fsc-1")
    assert consent.subject_ref == service.subjects.refs(BSN)[0]
    assert BSN.digits not in repr(consent)
    assert store.details[consent.id].date_of_birth == date(2013, 9, 1)
    assert [(e.status, e.at) for e in store.history] == [("active", clock())]
    [event] = store.events
    assert (event.action, event.consent_id, event.transaction_id) == (
        "consent.record", consent.id, "fsc-1"
    )
    assert event.clear_to == (SCHOOL.org_oin,)  # the recorder named the child's BSN
    [(claims, token_type)] = signer.signed
    assert token_type == "consent-receipt+jwt" and consent.receipt == f"receipt-{consent.id}"
    assert claims["jti"] == consent.id and claims["subject_ref"] != consent.subject_ref
    assert service.subjects.binds(claims["subject_ref"], consent.id, consent.subject_ref)
    assert claims["grantor_roles"] == ["parent"] and claims["recorded_by"] == SCHOOL.org_oin


def test_age_rule_refusal_stores_nothing(registry):
    service, store, signer = registry
    with pytest.raises(GrantorInvalidError):
        service.record(new_consent(date_of_birth=date(2011, 1, 1)), SCHOOL)  # 14: youth too
    assert store.consents == {} and store.events == [] and signer.signed == []


def test_subject_ref_is_the_same_for_every_consent_of_a_child_but_receipts_differ(registry):
    service, _, signer = registry
    first = service.record(new_consent(), SCHOOL)
    second = service.record(new_consent(purpose="support", parties=("school", "wij")), SCHOOL)
    other = service.record(new_consent(bsn=OTHER_BSN), SCHOOL)
    assert first.subject_ref == second.subject_ref != other.subject_ref  # the index, internal
    refs = [claims["subject_ref"] for claims, _ in signer.signed]
    assert len(set(refs)) == 3 and first.subject_ref not in refs


def test_check_follows_the_clock_through_pending_active_and_expired(registry, clock):
    service, _, _ = registry
    service.record(new_consent(valid_from=date(2025, 7, 1), valid_until=date(2025, 7, 31)), SCHOOL)
    assert allowed(service, clock).code == "consent_missing"
    clock.now = datetime(2025, 7, 1, 0, 0, tzinfo=UTC)  # 02:00 in Amsterdam
    assert allowed(service, clock).allowed
    clock.now = datetime(2025, 7, 31, 21, 59, tzinfo=UTC)
    assert allowed(service, clock).allowed
    clock.advance(minutes=1)
    assert allowed(service, clock).code == "consent_expired"


def test_withdrawal_holds_from_that_moment(registry, clock):
    service, store, _ = registry
    consent = service.record(new_consent(parties=("school", GGD.org_oin)), SCHOOL)
    assert allowed(service, clock).consent_id == consent.id
    clock.advance(seconds=1)
    withdrawn = service.withdraw(consent.id, GGD, "parent", "ouders trekken in", "fsc-2")
    assert withdrawn.withdrawn_at == clock()
    assert service.status(withdrawn) == "withdrawn"
    assert allowed(service, clock).code == "consent_withdrawn"
    assert store.history[-1].role == "parent" and store.history[-1].reason == "ouders trekken in"
    assert store.events[-1].action == "consent.withdraw"


def test_withdrawing_again_changes_nothing(registry, clock):
    service, store, _ = registry
    consent = service.record(new_consent(), SCHOOL)
    first = service.withdraw(consent.id, SCHOOL, "parent", "r")
    clock.advance(hours=1)
    again = service.withdraw(consent.id, SCHOOL, "youth", "r2")
    assert again.withdrawn_at == first.withdrawn_at
    assert len(store.events) == 2 and len(store.history) == 2


def test_who_sees_and_who_withdraws(registry, knowledge):
    service, _, _ = registry
    consent = service.record(new_consent(parties=(GGD.org_oin, "wij")), SCHOOL)
    assert service.get(consent.id, SCHOOL).id == consent.id  # recorder, not a party
    assert service.get(consent.id, GGD).id == consent.id  # by OIN
    other_ggd = Actor("00000001003456789111", "ggd", 4, "other")
    operator = Actor("00000001006789012000", "operator", 5, "ops")
    assert service.get(consent.id, operator).id == consent.id
    for outsider in (other_ggd, WIJ):  # WIJ is a party by type only, and received nothing
        with pytest.raises(ConsentNotFoundError):
            service.get(consent.id, outsider)
        with pytest.raises(ConsentNotFoundError):
            service.withdraw(consent.id, outsider, "parent", "no")
    with pytest.raises(ConsentNotFoundError):
        service.get("no-such-id", SCHOOL)
    knowledge.received.add((WIJ.org_oin, consent.id))  # an exchange reached WIJ under it
    assert service.get(consent.id, WIJ).id == consent.id
    with pytest.raises(WithdrawNotAllowedError):
        service.withdraw(consent.id, WIJ, "parent", "no")
    assert service.withdraw(consent.id, operator, "parent", "via de beheerder").withdrawn_at


def test_type_parties_send_only_replies_under_the_consent(registry, clock):
    service, _, _ = registry
    consent = service.record(new_consent(parties=("school", "ggd")), SCHOOL)
    other_school = Actor("00000001001234567111", "school", 6, "x")
    assert allowed(service, clock).consent_id == consent.id  # the recorder, to any GGD
    assert allowed(service, clock, sender=other_school).code == "consent_missing"
    assert allowed(service, clock, sender=GGD, recipient=SCHOOL).code == "consent_missing"
    reply = allowed(service, clock, sender=GGD, recipient=SCHOOL, replying_under=consent.id)
    assert reply.consent_id == consent.id
    elsewhere = allowed(service, clock, sender=GGD, recipient=SCHOOL, replying_under="other")
    assert elsewhere.code == "consent_missing"


def test_a_reply_under_a_restated_consent_is_covered_by_its_successor(registry, clock):
    service, _, _ = registry
    old = service.record(new_consent(), SCHOOL)
    clock.advance(days=1)
    new = service.record(new_consent(valid_until=date(2025, 9, 30)), SCHOOL)
    reply = allowed(service, clock, sender=GGD, recipient=SCHOOL, replying_under=old.id)
    assert reply.consent_id == new.id


def test_search_by_bsn_lists_recorded_and_oin_consents_once_the_bsn_was_had(
    registry, knowledge
):
    service, _, _ = registry
    by_oin = [service.record(new_consent(parties=("school", GGD.org_oin),
                                         valid_until=date(2025, 12, d)), SCHOOL)
              for d in (1, 2, 3)]
    by_type = service.record(new_consent(purpose="support", parties=("school", "ggd")), SCHOOL)
    service.record(new_consent(bsn=OTHER_BSN, parties=("school", GGD.org_oin)), SCHOOL)
    assert service.search(BSN, GGD).items == []  # a guess confirms nothing
    knowledge.had.add((GGD.org_oin, BSN.digits))
    first = service.search(BSN, GGD, 0, 2)
    assert [c.id for c in first.items] == [c.id for c in by_oin[:2]] and first.more
    rest = service.search(BSN, GGD, first.items[-1].seq, 2)
    assert [c.id for c in rest.items] == [by_oin[2].id] and not rest.more
    assert len(service.search(BSN, SCHOOL).items) == 4  # all it recorded
    assert by_type.id not in {c.id for c in service.search(BSN, GGD, 0, 50).items}


def test_search_by_own_pseudonym_lists_what_the_viewer_may_see(registry, knowledge):
    service, _, _ = registry
    by_oin = service.record(new_consent(parties=("school", GGD.org_oin)), SCHOOL)
    by_type = service.record(new_consent(purpose="support", parties=("school", "ggd")), SCHOOL)
    assert [c.id for c in service.search_received(BSN, GGD).items] == [by_oin.id]
    knowledge.received.add((GGD.org_oin, by_type.id))
    assert [c.id for c in service.search_received(BSN, GGD).items] == [by_oin.id, by_type.id]


def test_restating_an_active_consent_supersedes_the_earlier_one(registry, clock):
    service, store, _ = registry
    old = service.record(new_consent(), SCHOOL)
    clock.advance(days=1)
    new = service.record(new_consent(parties=("ggd", "school"), valid_until=date(2025, 9, 30)),
                         SCHOOL)
    old_now = store.get(old.id)
    assert service.status(old_now) == "superseded" and old_now.superseded_by == new.id
    assert store.history[-1].status == "superseded"
    assert allowed(service, clock).consent_id == new.id
    clock.now = datetime(2025, 10, 1, 12, tzinfo=UTC)
    assert allowed(service, clock).code == "consent_expired"  # the new statement governs


def test_another_organisation_never_supersedes_a_consent(registry, clock):
    service, store, _ = registry
    school_consent = service.record(new_consent(parties=("school", GGD.org_oin)), SCHOOL)
    service.record(new_consent(parties=("school", GGD.org_oin)), GGD)
    assert service.status(store.get(school_consent.id)) == "active"


def test_backdated_paper_consent_is_recorded_expired_and_supersedes_nothing(registry, clock):
    service, store, _ = registry
    current = service.record(new_consent(), SCHOOL)
    paper = service.record(
        new_consent(valid_from=date(2024, 1, 1), valid_until=date(2024, 12, 31),
                    date_of_birth=date(2012, 9, 1)),
        SCHOOL,
    )
    assert service.status(paper) == "expired"
    assert store.history[-1].status == "expired"
    assert service.status(store.get(current.id)) == "active"


def test_consents_survive_a_key_rotation(registry, clock, keyring):
    service, store, _ = registry
    consent = service.record(new_consent(), SCHOOL)
    rotated = DomainPseudonymiser(keyring.with_new_version(b"r" * 32))
    after = ConsentService(store, Signer(), DomainSubjects(rotated, "consent"), clock, "iss")
    new_ref = after.subjects.refs(BSN)[0]
    assert new_ref != consent.subject_ref
    decision = after.check(new_ref, "mazl", Party(SCHOOL.org_oin, "school"),
                           Party(GGD.org_oin, "ggd"), clock())
    assert decision.consent_id == consent.id
    assert [c.id for c in after.search(BSN, SCHOOL).items] == [consent.id]
