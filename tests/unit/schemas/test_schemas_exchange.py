"""The exchange envelope (API.md section 4, step 5) and the subject syntax check (step 9)."""

import pytest

from schemas.errors import SchemaValidationError
from schemas.exchange import load_exchange_envelope
from schemas.subject import load_subject

VALID = {
    "message_type": "absence_report",
    "recipient": "00000001001234567000",
    "subject": {"bsn": "123456782"},
    "payload": {"anything": "checked later"},
}


def errors(body):
    with pytest.raises(SchemaValidationError) as caught:
        load_exchange_envelope(body)
    assert caught.value.code == "validation_failed"
    return caught.value.errors


def test_valid_envelope_passes_payload_through_unchecked():
    assert load_exchange_envelope(VALID) == VALID


def test_signal_match_is_a_known_type_here():
    # A partner sending it is refused later by the route check (403 route_not_allowed).
    assert load_exchange_envelope({**VALID, "message_type": "signal_match"})


@pytest.mark.parametrize("name", ["message_type", "recipient", "subject", "payload"])
def test_each_member_required(name):
    body = {k: v for k, v in VALID.items() if k != name}
    assert errors(body) == {name: ["This field is required."]}


def test_paths_of_each_member():
    body = {"message_type": "gossip", "recipient": "123", "subject": [], "payload": "x"}
    assert set(errors(body)) == {"message_type", "recipient", "subject", "payload"}


def test_no_other_top_level_members():
    assert set(errors({**VALID, "priority": "high"})) == {"priority"}


@pytest.mark.parametrize("recipient", ["0000000100123456700", "٠٠٠٠٠٠٠١٠٠١٢٣٤٥٦٧٠٠٠", 1])
def test_recipient_is_twenty_ascii_digits(recipient):
    assert set(errors({**VALID, "recipient": recipient})) == {"recipient"}


@pytest.mark.parametrize(
    "subject",
    [{}, {"bsn": "123456782", "pseudonym": "abc"}, "123456782", None],
)
def test_subject_needs_exactly_one_of_bsn_or_pseudonym(subject):
    assert set(errors({**VALID, "subject": subject})) == {"subject"}


def test_subject_with_unknown_key():
    assert set(errors({**VALID, "subject": {"pseudonym": "abc", "name": "x"}})) == {"subject.name"}


def test_envelope_leaves_bsn_syntax_for_later():
    body = {**VALID, "subject": {"bsn": "123456789"}}
    assert load_exchange_envelope(body)["subject"] == {"bsn": "123456789"}
    with pytest.raises(SchemaValidationError) as caught:
        load_subject(body["subject"])
    assert caught.value.errors == {"subject.bsn": ["is not a valid BSN"]}


def test_load_subject():
    assert load_subject({"bsn": "123456782"}) == {"bsn": "123456782"}
    assert load_subject({"pseudonym": "Ab-_9"}) == {"pseudonym": "Ab-_9"}
    for subject, path in [
        ({"pseudonym": "a+b"}, "subject.pseudonym"),
        ({"pseudonym": "a" * 129}, "subject.pseudonym"),
        ({"bsn": "١٢٣٤٥٦٧٨٢"}, "subject.bsn"),
        ({"bsn": 123456782}, "subject.bsn"),
        ({}, "subject"),
        ({"bsn": "123456782", "pseudonym": "abc"}, "subject"),
    ]:
        with pytest.raises(SchemaValidationError) as caught:
            load_subject(subject)
        assert path in caught.value.errors


def test_body_must_be_an_object():
    assert errors(["absence_report"]) == {"body": ["Must be a JSON object."]}
