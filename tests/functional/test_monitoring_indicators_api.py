"""``GET /api/v1/monitoring/indicators`` through the Flask test client (the monitoring
area's functional test; tests/e2e/test_monitoring_api.py covers suppression over HTTP).

Each test has a database of its own, so the counts are exactly what the test sent.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.monitoring.indicators import SchoolYear
from pseudonymise import generate_valid_bsns
from tests import exchange_helpers as ex
from tests.functional_partners import AppPartners

TODAY = ex.today()
YEAR = SchoolYear.containing(TODAY).label


@pytest.fixture
def partners(database_url, keys_dir) -> AppPartners:
    return AppPartners(database_url, keys_dir)


def _report(partners, bsn, category, since_days):
    payload = dict(ex.homebound_report(TODAY), category=category, perspective="none",
                   since_date=(TODAY - timedelta(days=since_days)).isoformat())
    del payload["placed_date"]
    response = partners.send(ex.LEERPLICHT, "homebound_report", ex.SWV, payload,
                             subject={"bsn": bsn})
    assert response.status_code == 202, response.json


def _indicators(partners, oin, **params):
    return partners.get(oin, "/api/v1/monitoring/indicators", **params)


def test_homebound_children_are_counted_once_each_in_the_senders_scope(partners):
    empty = _indicators(partners, ex.LEERPLICHT, school_year=YEAR).json
    assert empty["homebound"]["by_category"]["absolute_absence"] == 0
    bsns = list(generate_valid_bsns(6, seed=1717))
    for bsn in bsns:
        _report(partners, bsn, "absolute_absence", 10)
    _report(partners, bsns[0], "absolute_absence", 10)  # the same child again counts once

    answer = _indicators(partners, ex.LEERPLICHT, school_year=YEAR).json
    assert answer["school_year"] == YEAR and answer["suppression_threshold"] == 5
    assert answer["homebound"]["by_category"]["absolute_absence"] == 6
    # the school neither sent nor received these reports
    school = _indicators(partners, ex.SCHOOL, school_year=YEAR).json
    assert school["homebound"]["by_category"]["absolute_absence"] == 0


def test_a_malformed_school_year_is_a_problem(partners):
    for bad in ("2025", "2025-2027", "x"):
        response = _indicators(partners, ex.LEERPLICHT, school_year=bad)
        assert response.status_code == 400, bad
        assert response.json["code"] == "invalid_parameter"
