"""The register of processing activities on a real server (issue 22 section 3, "done when"):
an operator changes a route in the bootstrap file and runs ``gateway bootstrap``; the public
JSON (``GET /api/v1/processing-activities``, no token) and the Dutch page
(``/ui/verwerkingsregister``, signed in through the development IdP) change with it, and the
audit log (read with the operator's ``audit:read`` token) holds the change.

(Named ``..._live`` beside ``tests/functional/test_processing_register.py``: the test
directories are no packages, so two test modules may not share a name.)
"""

from __future__ import annotations

import json
import re
import shutil

import pytest
import requests

from tests import exchange_helpers as ex
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.devidp_browser import sign_in, text_of
from tests.e2e.partners import register_partners

pytestmark = pytest.mark.e2e

PATH = "/api/v1/processing-activities"
SWV_ABSENCE = "passend_onderwijs.absence_report.school-swv"
GGD_MAZL = "mazl.sickness_absence_referral.school-ggd"

# the shipped absence_report school -> swv (routes.yaml, API.md section 3), as the operator
# changes it: only two fields kept, 60 days instead of 365
CHANGED_ROUTE = {
    "message_type": "absence_report",
    "sender_type": "school",
    "recipient_type": "swv",
    "purpose": "passend_onderwijs",
    "legal_basis": {"type": "legal_obligation", "citation": "Wet passend onderwijs (zorgplicht)"},
    "identity": "pseudonym",
    "profile": {
        "keep": ["absence_type", "start_date"],
        "generalise": {"date_of_birth": "birth_year"},
    },
    "retention_days": 60,
}
# and the GGD's referral under consent becomes a route that forwards no contact person
CHANGED_MAZL = {
    "message_type": "sickness_absence_referral",
    "sender_type": "school",
    "recipient_type": "ggd",
    "purpose": "mazl",
    "legal_basis": {"type": "consent"},
    "identity": "pseudonym",
    "profile": {
        "keep": ["sick_days_12_weeks", "sick_reports_12_weeks", "education_sector"],
        "generalise": {"date_of_birth": "birth_year"},
    },
    "retention_days": 120,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory, keys_dir):
    """A server of its own: the test changes its route policies."""
    instance = tmp_path_factory.mktemp("register-server")
    shutil.copytree(keys_dir, instance / "keys")
    live = start_server(instance, instance / "keys")
    yield live
    stop_server(live.process)


@pytest.fixture(scope="module")
def partners(server, tmp_path_factory):
    return register_partners(server, tmp_path_factory.mktemp("register"))


def register(server) -> dict[str, dict]:
    answer = requests.get(server.url + PATH, timeout=20)  # no token: public
    assert answer.status_code == 200, answer.text
    assert answer.headers["API-Version"] == "1.1.0"
    return {activity["id"]: activity for activity in answer.json()["activities"]}


def article(html: str, activity_id: str) -> str:
    found = re.search(
        rf'<article class="activity" id="{re.escape(activity_id)}".*?</article>', html, re.S
    )
    assert found, f"no {activity_id} on the page"
    return text_of(found.group(0))


def route_events(operator) -> list[dict]:
    answer = requests.get(
        f"{operator.base_url}/api/v1/audit/events",
        params={"action": "admin.route.update", "limit": "100"},
        headers=operator.headers("audit:read"),
        timeout=20,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def test_a_route_change_changes_the_register_json_and_page_and_is_audited(
    server, partners, tmp_path
):
    operator = partners[ex.OPERATOR]
    before = register(server)
    swv = before[SWV_ABSENCE]
    assert swv["uri"] == f"{server.url}{PATH}/{SWV_ABSENCE}"
    assert swv["retention"]["days"] == 365
    assert swv["personal_data"]["kept"] == [
        "absence_type",
        "start_date",
        "unauthorised_hours_4_weeks",
        "reason_category",
        "education_sector",
        "school_brin",
    ]
    assert before[GGD_MAZL]["retention"]["days"] == 180
    assert "contact" in before[GGD_MAZL]["personal_data"]["kept"]
    assert [s["code"] for s in before[GGD_MAZL]["data_subjects"]] == ["children", "staff"]
    assert requests.get(swv["uri"], timeout=20).json() == swv  # the URI answers the entry
    assert route_events(operator) == []

    browser, page = sign_in(server.url, "Petra de Vries", start="/ui/verwerkingsregister")
    assert "Gewist 365 dagen na verzending." in article(page.text, SWV_ABSENCE)

    path = tmp_path / "routes.yaml"
    path.write_text(json.dumps({"routes": [CHANGED_ROUTE, CHANGED_MAZL]}))
    result = server.cli("bootstrap", str(path))
    assert "route absence_report:school->swv" in result.stdout + result.stderr

    after = register(server)
    swv = after[SWV_ABSENCE]
    assert swv["retention"]["days"] == 60
    assert swv["personal_data"]["kept"] == ["absence_type", "start_date"]
    assert swv["personal_data"]["generalised"] == [{"field": "date_of_birth", "as": "birth_year"}]
    assert swv["personal_data"]["dropped"] == [
        "unauthorised_hours_4_weeks",
        "reason_category",
        "education_sector",
        "school_brin",
        "grade",
        "contact",
        "remarks",
    ]
    mazl = after[GGD_MAZL]
    assert mazl["retention"]["days"] == 120
    assert mazl["personal_data"]["kept"] == [
        "sick_days_12_weeks",
        "sick_reports_12_weeks",
        "education_sector",
    ]
    assert mazl["personal_data"]["dropped"] == ["concern", "contact"]
    assert [s["code"] for s in mazl["data_subjects"]] == ["children"]  # no contact person now
    unchanged = set(before) - {SWV_ABSENCE, GGD_MAZL}
    assert {key: after[key] for key in unchanged} == {key: before[key] for key in unchanged}

    html = browser.get(server.url + "/ui/verwerkingsregister", timeout=20).text
    text = article(html, SWV_ABSENCE)
    assert "Gewist 60 dagen na verzending." in text
    assert "Gegevens die de ontvanger krijgt soort verzuim, begindatum" in text
    assert "Gewist 120 dagen na verzending." in article(html, GGD_MAZL)

    events = route_events(operator)
    assert len(events) == 2
    assert all(event["actor"]["user"] == "gateway bootstrap" for event in events)
    assert all(event["decision"] == "allowed" for event in events)
