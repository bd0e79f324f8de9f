"""The Python client and the notices of issue 19: a ``retraction`` or ``consent_withdrawn``
item (``subject`` null, from the operator) in the inbox neither stops ``receive`` nor gets a
pseudonym, and is acknowledged like any item; so an existing client needs no change."""

from __future__ import annotations

from tests.unit.clients.test_client_http import BSN, GGD, gateway  # noqa: F401 - the fixture

NOTICE = {
    "id": "7d2e4b90-1c3f-4e8a-b5d6-0a9f8e7c6b54",
    "message_type": "retraction",
    "sender": {"oin": "00000001006789012000", "name": "Gateway Beheer", "type": "operator"},
    "subject": None,
    "payload": {
        "exchange_id": "ff787265-ae98-4630-be88-c694642bd50e",
        "message_type": "sickness_absence_referral",
        "reason": "wrong_child",
        "retracted_at": "2026-12-01T10:05:12.300114Z",
        "payload_erased": True,
        "requested": "erase_and_confirm",
        "confirm": "/api/v1/exchanges/ff787265-ae98-4630-be88-c694642bd50e/retraction/confirm",
    },
    "purpose": "mazl",
    "legal_basis": {"type": "legal_obligation", "citation": "AVG art. 19"},
    "created_at": "2026-12-01T10:05:12.300114Z",
    "fsc_transaction_id": "01a24dca-1f20-7b5e-9a41-3c8d2e6f0b17",
}


def test_a_notice_passes_through_receive_and_is_acknowledged(gateway):  # noqa: F811
    school, ggd = gateway.client("regenboog-sis"), gateway.client("ggd-jgz")
    school.send_polymorphic("sickness_absence_referral", GGD, BSN, {})
    gateway.inboxes[GGD].insert(0, dict(NOTICE))

    notice, message = ggd.receive()

    assert notice == NOTICE  # untouched: no pseudonym key, no error
    assert message["pseudonym"] and message["message_type"] == "sickness_absence_referral"
    ggd.ack(notice["id"])
    assert [i["id"] for i in gateway.inboxes[GGD]] == [message["id"]]
