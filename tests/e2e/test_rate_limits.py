"""Rate limits per client and per organisation, shared by every worker through Redis."""

from __future__ import annotations

import shutil
import uuid

import pytest
import redis
import requests

from tests import exchange_helpers as ex
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.partners import register_partners

REDIS_DB = 13


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory, keys_dir):
    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    client.flushdb()
    instance = tmp_path_factory.mktemp("limited")
    shutil.copytree(keys_dir, instance / "keys")
    server = start_server(
        instance,
        instance / "keys",
        {
            "GATEWAY_RATE_LIMIT_STORAGE": f"redis://127.0.0.1:6379/{REDIS_DB}",
            "GATEWAY_RATE_LIMIT_CLIENT": "5/minute",
            "GATEWAY_RATE_LIMIT_ORGANISATION": "1000/minute",
        },
    )
    yield server
    stop_server(server.process)
    client.flushdb()


def test_client_limit_is_shared_by_both_workers_and_answers_429(limited_server, tmp_path):
    partners = register_partners(limited_server, tmp_path)
    leerplicht = partners[ex.LEERPLICHT]
    token = leerplicht.token()
    statuses = []
    for _ in range(10):
        # a new connection per request, so both gunicorn workers serve some of them
        response = requests.get(f"{limited_server.url}/api/v1/inbox",
                                headers={"Authorization": f"Bearer {token}", "Connection": "close"},
                                timeout=10)
        statuses.append(response.status_code)
        last = response
    assert statuses.count(200) == 5, statuses
    assert statuses.count(429) == 5
    assert last.headers["Content-Type"] == "application/problem+json"
    assert last.json()["code"] == "too_many_requests"
    assert int(last.headers["Retry-After"]) > 0
    # another client of another organisation is not affected
    other = partners[ex.SWV]
    response = requests.get(f"{limited_server.url}/api/v1/inbox", headers=other.headers(), timeout=10)
    assert response.status_code == 200


def test_unauthenticated_requests_are_refused_before_counting(limited_server):
    for _ in range(8):
        response = requests.get(f"{limited_server.url}/api/v1/inbox",
                                headers={"Authorization": f"Bearer {uuid.uuid4().hex}"}, timeout=10)
        assert response.status_code == 401


@pytest.mark.parametrize("oin, method, path, body", [
    (ex.WIJ, "GET", "/api/v1/me", None),
    (ex.GGD, "POST", "/api/v1/audit/subject-report", {"subject": {"bsn": ex.BSN}}),
    (ex.SCHOOL, "GET", "/api/v1/audit/events", None),
    (ex.SWV, "GET", f"/api/v1/reidentifications/{uuid.uuid4()}", None),
    (ex.GGD_2, "POST", "/api/v1/consents/search", {"subject": {"bsn": ex.BSN}}),
])
def test_every_authenticated_area_is_rate_limited(limited_server, tmp_path, oin, method, path,
                                                  body):
    """Reads that could serve as an oracle (API.md section 13) are limited like sends: a
    client's sixth request within the minute (limit 5/minute) is refused with 429."""
    partner = register_partners(limited_server, tmp_path)[oin]
    statuses = []
    for _ in range(7):
        response = requests.request(method, f"{limited_server.url}{path}", json=body,
                                    headers=partner.headers(), timeout=10)
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
    assert statuses[-1] == 429, statuses
    assert 429 not in statuses[:-1] and len(statuses) <= 6
    assert response.json()["code"] == "too_many_requests"
    assert int(response.headers["Retry-After"]) >= 1


@pytest.fixture(scope="module")
def address_limited_server(tmp_path_factory, keys_dir):
    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB + 1)
    client.flushdb()
    instance = tmp_path_factory.mktemp("address-limited")
    shutil.copytree(keys_dir, instance / "keys")
    server = start_server(instance, instance / "keys", {
        "GATEWAY_RATE_LIMIT_STORAGE": f"redis://127.0.0.1:6379/{REDIS_DB + 1}",
        "GATEWAY_RATE_LIMIT_ADDRESS": "6/minute",
    })
    yield server
    stop_server(server.process)
    client.flushdb()


def test_anonymous_endpoints_are_limited_per_client_address(address_limited_server):
    """Issue 16: the token, introspection and revocation endpoints, /login and /saml/acs are
    reached before anyone proved who they are; one address shares one allowance across them
    (6/minute here), and an X-Forwarded-For from a peer that is not the trusted terminator
    does not buy a new one."""
    url = address_limited_server.url
    calls = [
        ("POST", "/oauth/token", {"grant_type": "client_credentials", "client_id": "x"}),
        ("POST", "/oauth/introspect", {"token": "x"}),
        ("POST", "/oauth/revoke", {"token": "x"}),
        ("GET", "/login", None),
        ("POST", "/saml/acs", {"SAMLResponse": "Z2FyYmFnZQ=="}),
        ("POST", "/saml/acs", {"SAMLResponse": "Z2FyYmFnZQ=="}),
    ]
    for method, path, form in calls:
        response = requests.request(method, f"{url}{path}", data=form, allow_redirects=False,
                                    headers={"X-Forwarded-For": f"203.0.113.{len(path)}"},
                                    timeout=10)
        assert response.status_code != 429, (path, response.text)
    for method, path, form in calls[:3] + calls[4:5]:
        response = requests.request(method, f"{url}{path}", data=form, allow_redirects=False,
                                    headers={"X-Forwarded-For": "198.51.100.7"}, timeout=10)
        assert response.status_code == 429, (path, response.status_code)
        if path.startswith("/oauth/"):
            assert response.headers["Content-Type"] == "application/problem+json"
            assert response.json()["code"] == "too_many_requests"
        else:  # a browser's page, in Dutch
            assert response.headers["Content-Type"].startswith("text/html")
            assert 'lang="nl"' in response.text and "Te veel verzoeken" in response.text
        assert int(response.headers["Retry-After"]) >= 1
