"""API.md section 13 rule 4 against a real gunicorn server (two workers): garbage posted to the
assertion consumer is counted in ``/metrics`` and never appended to the audit log.

The per-endpoint matrix is in ``tests/security/test_anonymous_audit.py``; this test shows the
same for the deployed process model, counting rows in the server's own database.
"""

from __future__ import annotations

import sqlite3

import requests

from tests.saml_helpers import encode


def live_counts(live_server) -> tuple[int, int]:
    """(all audit rows, auth.failure rows) in the live server's database, read-only."""
    path = live_server.env["GATEWAY_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        total = connection.execute("SELECT count(*) FROM audit_events").fetchone()[0]
        failures = connection.execute(
            "SELECT count(*) FROM audit_events WHERE action = 'auth.failure'"
        ).fetchone()[0]
    return total, failures


def live_saml_failures(url: str) -> float:
    total = 0.0
    for line in requests.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith("gateway_auth_failures_total{") and 'method="saml"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_garbage_posted_to_a_live_acs_never_reaches_the_audit_log(live_server):
    posts = 300
    total, failures = live_counts(live_server)
    counted = live_saml_failures(live_server.url)
    with requests.Session() as session:
        for number in range(posts):
            response = session.post(
                f"{live_server.url}/saml/acs",
                data={"SAMLResponse": encode(f"<garbage n='{number}'/>"), "RelayState": "/ui/"},
                timeout=10,
            )
            assert response.status_code == 400
    after_total, after_failures = live_counts(live_server)
    assert after_failures == failures, "garbage SAML posts were written as auth.failure"
    # other tests' deliveries may still append their own events in the background; hundreds
    # of garbage posts must not have added anywhere near one row each
    assert after_total - total < posts // 10
    assert live_saml_failures(live_server.url) - counted == posts
