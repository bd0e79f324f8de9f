"""Escalation with doorzettingsmacht over HTTP with real tokens and the real daily command
(issue 20; docs/pact-workflows.md section 5 and 10.2).

A homebound child escalates on the first ``gateway pact run`` on or after ``since_date +
norm_days`` of its reporter's region (Lekstroom 42, Groningen 91): the holder gets the minimal
dataset with the involved organisations, the reporter that (and to whom) it escalated; a
placement report closes it in its own request's transaction; exemptions never escalate; a
suspended holder is told by the first run after its reactivation. Each participant's inbox is
written out by hand below and compared after substituting the values the test collected (the
pseudonyms computed from the server's key, the ids of its own sends, the case_ref each item
names). The server is this module's own: ``pact run --now`` acts on everything stored.

Every test starts from drained inboxes and leaves each of its children escalated, placed or
exempt, so a later ``--now`` of another test fires nothing of it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta

import pytest
import requests

from pseudonymise import generate_valid_bsns
from tests import exchange_helpers as ex
from tests.e2e.conftest import REPO, stop_server
from tests.e2e.pact_helpers import (
    is_uuid4,
    local,
    make_pseudonymiser,
    own_server,
    pact_run,
    pseudonym,
    without_volatile,
)
from tests.e2e.partners import register_partners

TODAY = ex.today()
CHILDREN = list(generate_valid_bsns(6, seed=2042))
OPERATOR = {"oin": ex.OPERATOR, "name": "Gateway Beheer", "type": "operator"}
LEK_LEERPLICHT = {
    "oin": ex.LEK_LEERPLICHT,
    "name": "Gemeente Nieuwegein Leerplicht",
    "type": "leerplicht",
}
LEK_SWV = {"oin": ex.LEK_SWV, "name": "SWV VO Zuid Utrecht", "type": "swv"}
LEK_SCHOOL = {"oin": ex.LEK_SCHOOL, "name": "Cals College Nieuwegein", "type": "school"}
LEERPLICHT = {"oin": ex.LEERPLICHT, "name": "Leerplicht Groningen", "type": "leerplicht"}
SWV = {"oin": ex.SWV, "name": "SWV Groningen Stad", "type": "swv"}
LEKSTROOM = {"type": "legal_obligation", "citation": ex.LEKSTROOM_BASIS}
GRONINGEN = {"type": "legal_obligation", "citation": ex.GRONINGEN_BASIS}
BORN = ex.born(TODAY, 14)
BIRTH_YEAR = int(BORN[:4])


@pytest.fixture(scope="module")
def world(tmp_path_factory, keys_dir):
    server = own_server(tmp_path_factory, keys_dir, "pact-escalation")
    try:
        partners = register_partners(server, server.instance, regions=True)
        yield server, partners, make_pseudonymiser(server)
    finally:
        stop_server(server.process)


@pytest.fixture
def partners(world):
    _, partners, _ = world
    drain(partners)
    return partners


def drain(partners, keep: str | None = None) -> None:
    """Acknowledge every partner's items, except those of ``keep``: a holder that has not
    acknowledged the homebound report yet (its acknowledgement erases the report's payload,
    and the monitoring fact does not keep the sector and birth year of the minimal dataset:
    asked of the migration's owner, see the unit tests)."""
    for oin, partner in partners.items():
        if partner.type != "operator" and oin != keep:
            partner.drain()


def report_item(pseudonymiser, child, holder_oin, sender, since, category) -> dict:
    """The homebound report as its recipient (the holder) holds it (routes.yaml profile:
    the date of birth generalised to the birth year)."""
    return {
        "message_type": "homebound_report",
        "sender": sender,
        "subject": {"pseudonym": pseudonym(pseudonymiser, child, holder_oin)},
        "payload": {
            "category": category,
            "since_date": since.isoformat(),
            "education_sector": "vo",
            "perspective": "none",
            "birth_year": BIRTH_YEAR,
        },
        "purpose": "homebound_monitoring",
        "legal_basis": {"type": "legal_obligation", "citation": "Leerplichtwet 1969 art. 25"},
    }


def report(
    sender,
    recipient: str,
    child: str,
    since,
    category="long_relative_absence",
    perspective="none",
    placed=None,
) -> str:
    """A ``homebound_report`` sent now; its exchange id."""
    payload = {
        "category": category,
        "since_date": since.isoformat(),
        "education_sector": "vo",
        "date_of_birth": BORN,
        "perspective": perspective,
    }
    if placed is not None:
        payload["placed_date"] = placed.isoformat()
    response = sender.send("homebound_report", recipient, payload, subject={"bsn": child})
    assert response.status_code == 202, response.text
    return response.json()["id"]


def inbox(partner) -> list[dict]:
    """The partner's inbox without the members no test can know (id, time, transaction id)."""
    items = partner.inbox(limit=500)["items"]
    return [{k: v for k, v in item.items() if k != "id"} for item in without_volatile(items)]


def refs_of(items: list[dict]) -> list[str]:
    return [item["payload"]["case_ref"] for item in items]


def run(server, now: str) -> dict[str, int]:
    """``gateway pact run --now``; the counts it prints."""
    printed = pact_run(server, now).stdout
    return {
        name.replace(" ", "_"): int(count)
        for name, count in re.findall(r"^([a-z ]+): (\d+)$", printed, re.MULTILINE)
    }


def gauge(server, sample: str) -> float | None:
    text = requests.get(f"{server.url}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.split()[-1])
    return None


def test_fires_exactly_at_the_lekstroom_norm(world, partners):
    server, _, pseudonymiser = world
    child = CHILDREN[0]
    since = TODAY - timedelta(days=41)
    absence = partners[ex.LEK_SCHOOL].send(
        "absence_report", ex.LEK_LEERPLICHT, ex.absence_report(TODAY), subject={"bsn": child}
    )
    assert absence.status_code == 202, absence.text
    report_id = report(partners[ex.LEK_LEERPLICHT], ex.LEK_SWV, child, since)
    drain(partners, keep=ex.LEK_SWV)
    the_report = report_item(
        pseudonymiser, child, ex.LEK_SWV, LEK_LEERPLICHT, since, "long_relative_absence"
    )

    assert run(server, local(TODAY, 23, 59, 59))["escalations_opened"] == 0
    assert inbox(partners[ex.LEK_SWV]) == [the_report]
    for oin in (ex.LEK_LEERPLICHT, ex.LEK_SCHOOL):
        assert inbox(partners[oin]) == []

    assert run(server, local(TODAY + timedelta(days=1), 0, 0, 1))["escalations_opened"] == 1
    holder, reporter = inbox(partners[ex.LEK_SWV]), inbox(partners[ex.LEK_LEERPLICHT])
    [holder_ref], [reporter_ref] = refs_of(holder[1:]), refs_of(reporter)
    assert is_uuid4(holder_ref) and is_uuid4(reporter_ref) and holder_ref != reporter_ref
    assert holder == [
        the_report,
        {
            "message_type": "homebound_escalation",
            "sender": OPERATOR,
            "subject": {"pseudonym": pseudonym(pseudonymiser, child, ex.LEK_SWV)},
            "payload": {
                "case_ref": holder_ref,
                "region": "lekstroom",
                "norm_days": 42,
                "since_date": since.isoformat(),
                "days_at_home": 42,
                "category": "long_relative_absence",
                "education_sector": "vo",
                "birth_year": BIRTH_YEAR,
                "reporter": LEK_LEERPLICHT,
                # the holder itself, recipient of the homebound report, is not listed
                "involved": [LEK_SCHOOL],
            },
            "purpose": "homebound_escalation",
            "legal_basis": LEKSTROOM,
        },
    ]
    assert reporter == [
        {
            "message_type": "homebound_escalation",
            "sender": OPERATOR,
            "subject": {"pseudonym": pseudonym(pseudonymiser, child, ex.LEK_LEERPLICHT)},
            "payload": {
                "case_ref": reporter_ref,
                "region": "lekstroom",
                "norm_days": 42,
                "since_date": since.isoformat(),
                "days_at_home": 42,
                "holder": LEK_SWV,
                "report_id": report_id,
            },
            "purpose": "homebound_escalation",
            "legal_basis": LEKSTROOM,
        }
    ]
    assert inbox(partners[ex.LEK_SCHOOL]) == []
    assert gauge(server, 'gateway_pact_escalations_open{region="lekstroom"}') == 1

    drain(partners)
    for now in (local(TODAY + timedelta(days=1), 0, 0, 1), local(TODAY + timedelta(days=5), 5)):
        assert run(server, now)["escalations_opened"] == 0
    for oin in (ex.LEK_SWV, ex.LEK_LEERPLICHT, ex.LEK_SCHOOL):
        assert inbox(partners[oin]) == []


def test_fires_exactly_at_the_groningen_norm(world, partners):
    server, _, pseudonymiser = world
    child = CHILDREN[1]
    since = TODAY - timedelta(days=90)
    report_id = report(partners[ex.LEERPLICHT], ex.SWV, child, since, category="absolute_absence")
    drain(partners, keep=ex.SWV)
    the_report = report_item(pseudonymiser, child, ex.SWV, LEERPLICHT, since, "absolute_absence")
    assert run(server, local(TODAY, 23, 59, 59))["escalations_opened"] == 0
    assert inbox(partners[ex.SWV]) == [the_report]
    assert run(server, local(TODAY + timedelta(days=1), 0, 0, 1))["escalations_opened"] == 1
    holder, reporter = inbox(partners[ex.SWV]), inbox(partners[ex.LEERPLICHT])
    [holder_ref], [reporter_ref] = refs_of(holder[1:]), refs_of(reporter)
    assert holder == [
        the_report,
        {
            "message_type": "homebound_escalation",
            "sender": OPERATOR,
            "subject": {"pseudonym": pseudonym(pseudonymiser, child, ex.SWV)},
            "payload": {
                "case_ref": holder_ref,
                "region": "groningen",
                "norm_days": 91,
                "since_date": since.isoformat(),
                "days_at_home": 91,
                "category": "absolute_absence",
                "education_sector": "vo",
                "birth_year": BIRTH_YEAR,
                "reporter": LEERPLICHT,
                "involved": [],
            },
            "purpose": "homebound_escalation",
            "legal_basis": GRONINGEN,
        },
    ]
    assert reporter == [
        {
            "message_type": "homebound_escalation",
            "sender": OPERATOR,
            "subject": {"pseudonym": pseudonym(pseudonymiser, child, ex.LEERPLICHT)},
            "payload": {
                "case_ref": reporter_ref,
                "region": "groningen",
                "norm_days": 91,
                "since_date": since.isoformat(),
                "days_at_home": 91,
                "holder": SWV,
                "report_id": report_id,
            },
            "purpose": "homebound_escalation",
            "legal_basis": GRONINGEN,
        }
    ]
    for oin in (ex.SCHOOL, ex.GGD, ex.WIJ, ex.SWV_VO):
        assert inbox(partners[oin]) == []


def test_stops_at_the_placement(world, partners):
    server, _, pseudonymiser = world
    child = CHILDREN[2]
    since = TODAY - timedelta(days=45)
    report(partners[ex.LEK_LEERPLICHT], ex.LEK_SWV, child, since, perspective="in_progress")
    assert run(server, local(TODAY, 23, 59, 59))["escalations_opened"] == 1
    [holder_ref] = refs_of(inbox(partners[ex.LEK_SWV])[1:])
    drain(partners)

    placed_id = report(
        partners[ex.LEK_LEERPLICHT], ex.LEK_SWV, child, since, perspective="placed", placed=TODAY
    )
    # closed in the placement's own request: the holder's item is there before any run
    holder = partners[ex.LEK_SWV].inbox(limit=500)["items"]
    assert [item["id"] for item in holder][:1] == [placed_id]
    assert [{k: v for k, v in item.items() if k != "id"} for item in without_volatile(holder)] == [
        {
            "message_type": "homebound_report",
            "sender": LEK_LEERPLICHT,
            "subject": {"pseudonym": pseudonym(pseudonymiser, child, ex.LEK_SWV)},
            "payload": {
                "category": "long_relative_absence",
                "since_date": since.isoformat(),
                "education_sector": "vo",
                "perspective": "placed",
                "placed_date": TODAY.isoformat(),
                "birth_year": BIRTH_YEAR,
            },
            "purpose": "homebound_monitoring",
            "legal_basis": {"type": "legal_obligation", "citation": "Leerplichtwet 1969 art. 25"},
        },
        {
            "message_type": "homebound_escalation_closed",
            "sender": OPERATOR,
            "subject": {"pseudonym": pseudonym(pseudonymiser, child, ex.LEK_SWV)},
            "payload": {
                "case_ref": holder_ref,
                "reason": "placed",
                "placed_date": TODAY.isoformat(),
                "days_at_home": 45,
            },
            "purpose": "homebound_escalation",
            "legal_basis": LEKSTROOM,
        },
    ]
    # the reporter gets no closing item: it sent the placement itself
    assert inbox(partners[ex.LEK_LEERPLICHT]) == []
    drain(partners)
    later = run(server, local(TODAY + timedelta(days=30), 5))
    assert (later["escalations_opened"], later["escalations_closed"]) == (0, 0)
    for oin in (ex.LEK_SWV, ex.LEK_LEERPLICHT):
        assert inbox(partners[oin]) == []


def test_exemption_categories_never_escalate(world, partners):
    server, _, _ = world
    for child, category in ((CHILDREN[3], "exemption_5a"), (CHILDREN[4], "exemption_other")):
        report(
            partners[ex.LEK_LEERPLICHT],
            ex.LEK_SWV,
            child,
            TODAY - timedelta(days=200),
            category=category,
        )
    drain(partners)
    for day in (0, 100, 400):
        assert run(server, local(TODAY + timedelta(days=day), 23))["escalations_opened"] == 0
    for oin in (ex.LEK_SWV, ex.LEK_LEERPLICHT):
        assert inbox(partners[oin]) == []


def test_placed_before_the_norm_never_fires(world, partners):
    server, _, _ = world
    child = CHILDREN[5]
    since = TODAY - timedelta(days=30)
    report(partners[ex.LEK_LEERPLICHT], ex.LEK_SWV, child, since, perspective="in_progress")
    report(
        partners[ex.LEK_LEERPLICHT], ex.LEK_SWV, child, since, perspective="placed", placed=TODAY
    )
    drain(partners)
    for day in (12, 100):
        assert run(server, local(TODAY + timedelta(days=day), 5))["escalations_opened"] == 0
    for oin in (ex.LEK_SWV, ex.LEK_LEERPLICHT):
        assert inbox(partners[oin]) == []


def test_holder_suspended(world, partners):
    server, _, pseudonymiser = world
    child = next(generate_valid_bsns(1, seed=4242))
    since = TODAY - timedelta(days=42)
    report_id = report(partners[ex.LEK_LEERPLICHT], ex.LEK_SWV, child, since)
    drain(partners, keep=ex.LEK_SWV)
    the_report = report_item(
        pseudonymiser, child, ex.LEK_SWV, LEK_LEERPLICHT, since, "long_relative_absence"
    )
    server.cli("org", "suspend", ex.LEK_SWV)
    try:
        first = run(server, local(TODAY, 23))
        assert (first["escalations_opened"], first["escalations_delivered"]) == (1, 0)
        reporter = inbox(partners[ex.LEK_LEERPLICHT])
        assert [item["payload"]["holder"] for item in reporter] == [LEK_SWV]
        assert reporter[0]["payload"]["report_id"] == report_id
        assert gauge(server, "gateway_pact_escalations_undelivered") == 1
    finally:
        server.cli("org", "activate", ex.LEK_SWV)
    assert inbox(partners[ex.LEK_SWV]) == [the_report]
    second = run(server, local(TODAY, 23, 30))
    assert (second["escalations_opened"], second["escalations_delivered"]) == (0, 1)
    holder = inbox(partners[ex.LEK_SWV])
    [holder_ref] = refs_of(holder[1:])
    assert holder == [
        the_report,
        {
            "message_type": "homebound_escalation",
            "sender": OPERATOR,
            "subject": {"pseudonym": pseudonym(pseudonymiser, child, ex.LEK_SWV)},
            "payload": {
                "case_ref": holder_ref,
                "region": "lekstroom",
                "norm_days": 42,
                "since_date": since.isoformat(),
                "days_at_home": 42,
                "category": "long_relative_absence",
                "education_sector": "vo",
                "birth_year": BIRTH_YEAR,
                "reporter": LEK_LEERPLICHT,
                "involved": [],
            },
            "purpose": "homebound_escalation",
            "legal_basis": LEKSTROOM,
        },
    ]
    assert gauge(server, "gateway_pact_escalations_undelivered") == 0
    assert run(server, local(TODAY, 23, 45))["escalations_delivered"] == 0
    assert len(inbox(partners[ex.LEK_SWV])) == 2


def test_now_is_refused_in_production(world):
    server, _, _ = world
    env = {**server.env, "GATEWAY_ENV": "production", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "pact", "run", "--now", local(TODAY, 6)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=server.instance,
    )
    assert result.returncode != 0
    assert "--now is refused in production" in result.stderr
