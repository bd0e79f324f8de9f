"""Which consent covers an exchange, and the most specific refusal (consent/matching.py)."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from consent.interfaces import Party
from consent.matching import decide, superseded_by
from consent.records import Actor, Consent

NOW = datetime(2025, 6, 15, 10, tzinfo=UTC)
SCHOOL = Party("00000001001234567000", "school")
GGD = Party("00000001003456789000", "ggd")
OTHER_GGD = Party("00000001003456789111", "ggd")
WIJ = Party("00000001004567890000", "wij")
RECORDER = Actor(SCHOOL.oin, "school", 1, "sis")


def consent(cid="c-1", **changes) -> Consent:
    base = Consent(
        id=cid,
        subject_ref="ref",
        purpose="mazl",
        parties=("school", "ggd"),
        grantor_roles=("parent",),
        valid_from=date(2025, 1, 1),
        valid_until=date(2025, 12, 31),
        evidence_method="written",
        recorded_by=RECORDER,
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    return replace(base, **changes)


def test_active_consent_for_types_covers_any_organisation_of_that_type():
    for recipient in (GGD, OTHER_GGD):
        decision = decide([consent()], "mazl", SCHOOL, recipient, NOW)
        assert decision.allowed and decision.consent_id == "c-1"


def test_type_consent_does_not_cover_another_type():
    assert decide([consent()], "mazl", SCHOOL, WIJ, NOW).code == "consent_missing"


def test_oin_party_covers_only_that_organisation():
    named = consent(parties=(SCHOOL.oin, GGD.oin))
    assert decide([named], "mazl", SCHOOL, GGD, NOW).allowed
    assert decide([named], "mazl", SCHOOL, OTHER_GGD, NOW).code == "consent_missing"


def test_both_sender_and_recipient_must_be_named():
    only_ggd = consent(parties=("ggd",))
    assert decide([only_ggd], "mazl", SCHOOL, GGD, NOW).code == "consent_missing"


def test_purpose_must_be_the_routes_purpose():
    assert decide([consent(purpose="support")], "mazl", SCHOOL, GGD, NOW).code == (
        "consent_missing"
    )


def test_not_yet_valid_is_missing():
    pending = consent(valid_from=date(2025, 7, 1))
    assert decide([pending], "mazl", SCHOOL, GGD, NOW).code == "consent_missing"


def test_expired_and_withdrawn():
    expired = consent(valid_until=date(2025, 6, 14))
    withdrawn = consent(withdrawn_at=NOW - timedelta(minutes=1))
    assert decide([expired], "mazl", SCHOOL, GGD, NOW).code == "consent_expired"
    assert decide([withdrawn], "mazl", SCHOOL, GGD, NOW).code == "consent_withdrawn"


def test_an_active_consent_wins_over_ended_ones():
    ended = [consent("old", valid_until=date(2025, 2, 1)), consent("gone", withdrawn_at=NOW)]
    decision = decide([*ended, consent("live")], "mazl", SCHOOL, GGD, NOW)
    assert decision.allowed and decision.consent_id == "live"


def test_the_most_recently_ended_consent_names_the_refusal():
    expired_last_week = consent("a", valid_until=date(2025, 6, 8))
    withdrawn_in_march = consent("b", withdrawn_at=datetime(2025, 3, 1, tzinfo=UTC))
    assert decide([withdrawn_in_march, expired_last_week], "mazl", SCHOOL, GGD, NOW).code == (
        "consent_expired"
    )
    withdrawn_yesterday = consent("c", withdrawn_at=NOW - timedelta(days=1))
    assert decide([expired_last_week, withdrawn_yesterday], "mazl", SCHOOL, GGD, NOW).code == (
        "consent_withdrawn"
    )


def test_unrelated_ended_consents_do_not_make_the_refusal_more_specific():
    withdrawn_for_wij = consent(parties=("school", "wij"), withdrawn_at=NOW)
    assert decide([withdrawn_for_wij], "mazl", SCHOOL, GGD, NOW).code == "consent_missing"


def test_among_active_consents_the_longest_running_is_named():
    short = consent("short", valid_until=date(2025, 7, 1))
    long = consent("long", valid_until=date(2026, 1, 1))
    assert decide([long, short], "mazl", SCHOOL, GGD, NOW).consent_id == "long"


def test_a_new_active_consent_supersedes_active_restatements_only():
    new = consent("new", parties=("ggd", "school"), created_at=NOW)
    same = consent("same")
    other_parties = consent("other", parties=("school", "ggd", "wij"))
    pending = consent("pending", valid_from=date(2025, 9, 1))
    expired = consent("expired", valid_until=date(2025, 2, 1))
    earlier = [same, other_parties, pending, expired, new]
    assert [c.id for c in superseded_by(new, earlier, NOW)] == ["same"]


def test_a_backdated_or_future_consent_supersedes_nothing():
    current = consent("current")
    paper = consent("paper", valid_from=date(2024, 1, 1), valid_until=date(2024, 12, 31))
    renewal = consent("renewal", valid_from=date(2026, 1, 1), valid_until=date(2026, 12, 31))
    assert superseded_by(paper, [current], NOW) == []
    assert superseded_by(renewal, [current], NOW) == []


# API.md section 13 rule 3: type parties are bound -------------------------------------------
def test_a_type_party_sends_only_a_reply_under_the_consent_or_its_restatements():
    from consent.matching import lineage, may_send

    first = consent("c-1", superseded_by="c-2")
    second = consent("c-2", superseded_by="c-3")
    third = consent("c-3")
    everything = [first, second, third]
    assert lineage(third, everything) == {"c-1", "c-2", "c-3"}
    assert may_send(third, SCHOOL)  # the recorder
    assert not may_send(third, GGD)  # covered by type, not replying
    assert may_send(third, GGD, "c-1", everything)  # a reply to what came under c-1
    assert not may_send(first, GGD, "c-3", everything)  # lineage runs backwards only
    assert may_send(consent(parties=("school", GGD.oin)), GGD)  # named by OIN


def test_who_sees_withdraws_and_finds_by_bsn():
    from consent.matching import findable_by_bsn, may_see, may_withdraw

    operator = Party("00000001006789012000", "operator")
    by_type = consent(parties=("school", "ggd"))
    by_oin = consent(parties=("school", GGD.oin))
    other_school = Party("00000001001234567111", "school")
    assert may_withdraw(by_type, SCHOOL) and may_withdraw(by_type, operator)
    assert not may_withdraw(by_type, GGD) and not may_withdraw(by_type, other_school)
    assert not may_see(by_type, GGD) and may_see(by_type, GGD, received_under=True)
    assert not may_see(by_type, WIJ, received_under=True)  # not a party at all
    assert findable_by_bsn(by_type, SCHOOL, had_bsn=False)  # it recorded it
    assert not findable_by_bsn(by_oin, GGD, had_bsn=False)
    assert findable_by_bsn(by_oin, GGD, had_bsn=True)
    assert not findable_by_bsn(by_type, GGD, had_bsn=True)  # by type: never by BSN
    assert findable_by_bsn(by_type, operator, had_bsn=False)


def test_another_organisations_restatement_supersedes_nothing():
    mine = consent("old")
    theirs = consent("new", recorded_by=Actor(GGD.oin, "ggd", 2, "g"))
    assert superseded_by(theirs, [mine], NOW) == []
    assert [c.id for c in superseded_by(consent("new"), [mine], NOW)] == ["old"]
