"""``GET /api/v1/monitoring/indicators`` on a real server with generated homebound reports."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
import requests

from gateway.monitoring.indicators import SchoolYear
from pseudonymise import generate_valid_bsns
from tests import exchange_helpers as ex
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.partners import register_partners

TODAY = ex.today()


@pytest.fixture(scope="module")
def own_server(tmp_path_factory, keys_dir):
    """A server of its own: indicators count everything on it, so no other test may add."""
    instance = tmp_path_factory.mktemp("monitoring-server")
    shutil.copytree(keys_dir, instance / "keys")
    server = start_server(instance, instance / "keys")
    yield server
    stop_server(server.process)


@pytest.fixture(scope="module")
def partners(own_server, tmp_path_factory):
    return register_partners(own_server, tmp_path_factory.mktemp("monitoring"))


def indicators(partner, **params):
    return requests.get(f"{partner.base_url}/api/v1/monitoring/indicators", params=params,
                        headers=partner.headers(), timeout=10)


def report(partner, bsn, category, since_days):
    payload = dict(ex.homebound_report(TODAY), category=category, perspective="none",
                   since_date=(TODAY - timedelta(days=since_days)).isoformat())
    del payload["placed_date"]
    response = partner.send("homebound_report", ex.SWV, payload, subject={"bsn": bsn})
    assert response.status_code == 202, response.text


def test_indicators_count_and_suppress(partners):
    leerplicht, school = partners[ex.LEERPLICHT], partners[ex.SCHOOL]
    year = SchoolYear.containing(TODAY).label
    before = indicators(leerplicht, school_year=year).json()
    assert before["homebound"]["by_category"] == {"absolute_absence": 0, "long_relative_absence": 0,
                                                  "exemption_5a": 0, "exemption_other": 0}
    bsns = list(generate_valid_bsns(12, seed=77))
    for bsn in bsns[:7]:
        report(leerplicht, bsn, "long_relative_absence", 100)  # over 3 months... if in this year
    for bsn in bsns[7:10]:
        report(leerplicht, bsn, "absolute_absence", 10)
    report(leerplicht, bsns[0], "long_relative_absence", 100)  # the same child again: counts once
    answer = indicators(leerplicht, school_year=year).json()
    assert answer["school_year"] == year and answer["suppression_threshold"] == 5
    categories = answer["homebound"]["by_category"]
    assert categories["absolute_absence"] == "<5"
    # a single small cell: the smallest other non-zero cell is withheld (complementary suppression)
    assert categories["long_relative_absence"] is None
    assert categories["exemption_5a"] == 0 and categories["exemption_other"] == 0
    assert answer["absolute_absence"] == "<5"
    assert set(answer["baseline"]) >= {"school_year"} and "targets" in answer
    # a partner that neither sent nor received these reports sees none of them
    assert indicators(school, school_year=year).json()["homebound"]["by_category"]["absolute_absence"] == 0
    for bad in ("2025", "2025-2027", "x", ""):
        response = indicators(leerplicht, school_year=bad)
        assert response.status_code == 400 and response.json()["code"] == "invalid_parameter"
    no_scope = requests.get(f"{leerplicht.base_url}/api/v1/monitoring/indicators",
                            headers=leerplicht.headers("exchange:send"), timeout=10)
    assert no_scope.status_code == 403 and no_scope.json()["code"] == "insufficient_scope"


def test_the_pact_member_is_present_with_zeros_when_nothing_happened(partners):
    """Design section 8: ``pact`` is never omitted or null; no case was opened on this server
    and no child placed, so every count is 0 (the regions, if any, each 0 too)."""
    for partner in (partners[ex.LEERPLICHT], partners[ex.SCHOOL]):
        pact = indicators(partner).json()["pact"]
        by_region = pact["escalations"].pop("by_region")
        assert set(by_region.values()) <= {0}
        assert pact == {
            "consultations": {"held": 0, "with_agreements": 0},
            "exemption_requests": {
                "total": 0,
                "by_medical_advice": {"unfit_for_school": 0, "fit_with_adjustments": 0,
                                      "fit_for_school": 0, "unable_to_advise": 0, "none": 0},
                "by_decision": {"exempted_5a": 0, "not_exempted": 0, "request_withdrawn": 0},
            },
            "escalations": {"opened": 0, "closed": 0, "open_at_year_end": 0},
            "time_to_placement": {"placed": 0, "median_days": None,
                                  "by_band": {"under_6_weeks": 0, "6_weeks_to_3_months": 0,
                                              "over_3_months": 0}},
        }
