"""Recipients by role and region (issue 20; docs/pact-workflows.md 6.1 and 10.2) over HTTP
with real tokens.

A school that does not know the OIN of the leerplicht office of a municipality, or of the SWV
of its region, addresses it by role and area; the gateway resolves the address through the
registry (the ``serves`` and ``regions`` of the bootstrap file) before anything about the child
is looked at. The server is this module's own: the tests suspend an organisation and move a
municipality to another office, which other modules must not see.
"""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests

from pseudonymise import generate_valid_bsns
from tests import exchange_helpers as ex
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.partners import register_partners

TODAY = ex.today()
CHILD = next(generate_valid_bsns(1, seed=2006))
LEERPLICHT_0014 = {"type": "leerplicht", "municipality": "0014"}


@pytest.fixture(scope="module")
def world(tmp_path_factory, keys_dir):
    instance = tmp_path_factory.mktemp("addressing")
    shutil.copytree(keys_dir, instance / "keys")
    server = start_server(instance, instance / "keys")
    try:
        partners = register_partners(server, instance, regions=True)
        yield server, partners
    finally:
        stop_server(server.process)


@pytest.fixture
def partners(world):
    _, partners = world
    for partner in partners.values():
        if partner.type != "operator":
            partner.drain()
    return partners


def send(sender, recipient, message_type="absence_report", key=None, transaction_id=None):
    headers = {"Fsc-Transaction-Id": transaction_id} if transaction_id else {}
    return sender.send(
        message_type,
        recipient,
        ex.absence_report(TODAY),
        subject={"bsn": CHILD},
        key=key,
        headers=headers,
    )


def audit_view(partner, since: datetime) -> list[dict]:
    """Every audit event ``partner`` may read since ``since``."""
    events, cursor = [], None
    while True:
        params = {"from": since.strftime("%Y-%m-%dT%H:%M:%SZ"), "limit": "500"}
        if cursor:
            params["cursor"] = cursor
        page = requests.get(
            f"{partner.base_url}/api/v1/audit/events",
            headers=partner.headers(),
            params=params,
            timeout=10,
        )
        assert page.status_code == 200, page.text
        events += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if not cursor:
            return events


def bootstrap(server, tmp_path, serves: dict[str, dict]) -> None:
    """Apply a bootstrap file that restates the named organisations with new ``serves``."""
    names = {
        oin: (name, type_) for oin, name, type_ in [*ex.ORGANISATIONS, *ex.REGION_ORGANISATIONS]
    }
    document = {
        "organisations": [
            {"oin": oin, "name": names[oin][0], "type": names[oin][1], "serves": value}
            for oin, value in serves.items()
        ]
    }
    path = tmp_path / f"serves-{uuid.uuid4().hex}.yaml"
    path.write_text(json.dumps(document))
    server.cli("bootstrap", str(path))


def started() -> datetime:
    return datetime.now(UTC) - timedelta(seconds=2)


def test_leerplicht_by_municipality_is_the_same_as_by_oin(partners):
    school, leerplicht, operator = (
        partners[ex.SCHOOL],
        partners[ex.LEERPLICHT],
        partners[ex.OPERATOR],
    )
    since = started()

    by_address = send(school, LEERPLICHT_0014)
    assert by_address.status_code == 202, by_address.text
    answer = by_address.json()
    assert answer["recipient"] == ex.LEERPLICHT
    assert answer["recipient_address"] == {"type": "leerplicht", "municipality": "0014"}
    assert answer["status"] == "accepted" and answer["message_type"] == "absence_report"

    by_oin = send(school, ex.LEERPLICHT)
    assert by_oin.status_code == 202, by_oin.text
    assert by_oin.json()["recipient_address"] is None

    items = {item["id"]: item for item in leerplicht.inbox(limit=500)["items"]}
    assert set(items) == {answer["id"], by_oin.json()["id"]}

    def comparable(item: dict) -> dict:
        return {
            k: v for k, v in item.items() if k not in ("id", "created_at", "fsc_transaction_id")
        }

    assert comparable(items[answer["id"]]) == comparable(items[by_oin.json()["id"]])
    assert comparable(items[answer["id"]])["sender"] == {
        "oin": ex.SCHOOL,
        "name": "OBS De Regenboog",
        "type": "school",
    }
    assert items[answer["id"]]["subject"] == {"bsn": CHILD}
    assert items[answer["id"]]["legal_basis"] == {
        "type": "legal_obligation",
        "citation": "Leerplichtwet 1969 art. 21a",
    }

    status = requests.get(
        f"{school.base_url}/api/v1/exchanges/{answer['id']}", headers=school.headers(), timeout=10
    )
    assert status.status_code == 200 and status.json()["recipient"] == ex.LEERPLICHT

    [event] = [
        e
        for e in audit_view(operator, since)
        if e["exchange_id"] == answer["id"] and e["action"] == "exchange.send"
    ]
    assert (event["decision"], event["sender"], event["recipient"]) == (
        "allowed",
        ex.SCHOOL,
        ex.LEERPLICHT,
    )


def test_unknown_municipality_and_a_gm_code(partners):
    school = partners[ex.SCHOOL]
    unknown = send(school, {"type": "leerplicht", "municipality": "9999"})
    assert unknown.status_code == 404, unknown.text
    assert unknown.headers["Content-Type"].startswith("application/problem+json")
    assert unknown.json()["code"] == "recipient_unresolved"
    assert unknown.json()["errors"] == {
        "recipient": ["No leerplicht organisation serves municipality 9999."]
    }

    gm = send(school, {"type": "leerplicht", "municipality": "GM0014"})
    assert gm.status_code == 422, gm.text
    assert gm.json()["code"] == "validation_failed"
    assert gm.json()["errors"] == {
        "recipient.municipality": ["use the 4 digits of the CBS gemeentecode, without GM"]
    }

    school_type = send(school, {"type": "school", "municipality": "0014"})
    assert school_type.status_code == 422, school_type.text
    assert list(school_type.json()["errors"]) == ["recipient.type"]


def test_swv_by_region_needs_the_sector(partners):
    school = partners[ex.SCHOOL]
    ambiguous = send(school, {"type": "swv", "region": "groningen"})
    assert ambiguous.status_code == 409, ambiguous.text
    assert ambiguous.json()["code"] == "recipient_ambiguous"
    assert ambiguous.json()["errors"] == {
        "recipient": [
            "2 swv organisations serve region groningen; add education_sector or address "
            "one by OIN."
        ]
    }
    vo = send(school, {"type": "swv", "region": "groningen", "education_sector": "vo"})
    assert vo.status_code == 202, vo.text
    assert vo.json()["recipient"] == ex.SWV_VO
    assert vo.json()["recipient_address"] == {
        "type": "swv",
        "region": "groningen",
        "education_sector": "vo",
    }
    [item] = partners[ex.SWV_VO].inbox(limit=500)["items"]
    assert item["id"] == vo.json()["id"]
    assert partners[ex.SWV].inbox(limit=500)["items"] == []
    po = send(school, {"type": "swv", "municipality": "0014", "education_sector": "po"})
    assert po.status_code == 202 and po.json()["recipient"] == ex.SWV


def test_the_resolved_organisation_suspended(world, partners):
    server, _ = world
    server.cli("org", "suspend", ex.LEERPLICHT)
    try:
        refused = send(partners[ex.SCHOOL], LEERPLICHT_0014)
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "recipient_suspended"
    finally:
        server.cli("org", "activate", ex.LEERPLICHT)
    assert send(partners[ex.SCHOOL], LEERPLICHT_0014).status_code == 202


def test_an_idempotent_replay_answers_the_first_resolution(world, partners, tmp_path):
    server, _ = world
    school = partners[ex.SCHOOL]
    key = uuid.uuid4().hex
    first = send(school, LEERPLICHT_0014, key=key)
    assert first.status_code == 202 and first.json()["recipient"] == ex.LEERPLICHT
    # 0014 moves to the Nieuwegein office (which then serves it alone)
    bootstrap(
        server,
        tmp_path,
        {ex.LEERPLICHT: {}, ex.LEK_LEERPLICHT: {"municipalities": ["0014"]}},
    )
    try:
        replay = send(school, LEERPLICHT_0014, key=key)
        assert replay.status_code == 202, replay.text
        assert replay.json() == first.json()
        fresh = send(school, LEERPLICHT_0014)
        assert fresh.status_code == 202 and fresh.json()["recipient"] == ex.LEK_LEERPLICHT
    finally:
        bootstrap(
            server,
            tmp_path,
            {
                ex.LEK_LEERPLICHT: ex.SERVES[ex.LEK_LEERPLICHT],
                ex.LEERPLICHT: ex.SERVES[ex.LEERPLICHT],
            },
        )
    assert send(school, LEERPLICHT_0014).json()["recipient"] == ex.LEERPLICHT


def test_a_refused_resolution_is_seen_by_the_sender_and_the_operator_only(partners):
    school = partners[ex.SCHOOL]
    since = started()
    unresolved_id, ambiguous_id = str(uuid.uuid4()), str(uuid.uuid4())
    assert (
        send(
            school, {"type": "leerplicht", "municipality": "9999"}, transaction_id=unresolved_id
        ).status_code
        == 404
    )
    assert (
        send(
            school, {"type": "swv", "region": "groningen"}, transaction_id=ambiguous_id
        ).status_code
        == 409
    )

    def refusals(partner) -> list[tuple]:
        return sorted(
            (
                e["action"],
                e["decision"],
                e["reason"],
                e["sender"],
                e["recipient"],
                e["fsc_transaction_id"],
            )
            for e in audit_view(partner, since)
            if e["fsc_transaction_id"] in (unresolved_id, ambiguous_id)
        )

    expected = sorted(
        [
            ("exchange.send", "denied", "recipient_unresolved", ex.SCHOOL, None, unresolved_id),
            ("exchange.send", "denied", "recipient_ambiguous", ex.SCHOOL, None, ambiguous_id),
        ]
    )
    assert refusals(school) == expected
    assert refusals(partners[ex.OPERATOR]) == expected
    for oin in (ex.LEERPLICHT, ex.LEK_LEERPLICHT, ex.SWV, ex.SWV_VO, ex.LEK_SWV, ex.GGD):
        assert refusals(partners[oin]) == [], oin
