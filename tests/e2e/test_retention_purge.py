"""Retention purge over HTTP with real tokens (issue 19, done-when): a child's exchanges,
consent, signal and re-identification request; ``gateway retention purge --now`` run through
the real CLI at a moment past the terms of ``gateway/policies/retention.yaml``.

``--now`` moves only the moment the terms are measured from; what is erased, how, and what
stays is the product's own code against its own database. A first purge two years on erases
the ended consent, the closed signal and the settled request, but shreds none of the child's
audit references while the leerplicht exchange record (five years) still names the child.
A second, past every term, shreds them: verify stays valid, the chain keeps every entry and
every checkpoint byte for byte, the operator's subject report finds none of the purged
events, no column of any table holds the child's BSN, pseudonyms or openings, each run is an
``admin.retention.purge`` event without the child, and a run repeated at once purges nothing.
"""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from gateway.keys import KeyStore
from pseudonymise import Bsn, DomainPseudonymiser, generate_valid_bsns, organisation_domain
from tests import exchange_helpers as ex
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.partners import register_partners

TODAY = ex.today()
CHILD, OTHER = generate_valid_bsns(2, seed=1919)
HTTP = requests.Session()


@pytest.fixture(scope="module")
def server(tmp_path_factory, keys_dir):
    instance = tmp_path_factory.mktemp("retention-e2e")
    keys = instance / "keys"
    shutil.copytree(keys_dir, keys)
    live = start_server(instance, keys)
    yield live
    stop_server(live.process)


@pytest.fixture(scope="module")
def partners(server, tmp_path_factory):
    return register_partners(server, tmp_path_factory.mktemp("retention-partners"))


@pytest.fixture(scope="module")
def pseudonymiser(server):
    keys = KeyStore(Path(server.env["GATEWAY_KEYS_DIR"]), allow_generate=False)
    return DomainPseudonymiser(keys.keyring)


def post(partner, path, body, **headers):
    return HTTP.post(f"{partner.base_url}{path}", json=body, timeout=30,
                     headers=partner.headers(**headers))


def send(partner, message_type, recipient, payload, bsn):
    body = {"message_type": message_type, "recipient": recipient, "subject": {"bsn": bsn},
            "payload": payload}
    response = post(partner, "/api/v1/exchanges", body, **{"Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == 202, response.text
    return response.json()


def report(operator, bsn) -> list[dict]:
    """The operator's subject report for ``bsn``, every page."""
    events, cursor = [], None
    while True:
        body = {"subject": {"bsn": bsn}, "limit": 500, **({"cursor": cursor} if cursor else {})}
        response = post(operator, "/api/v1/audit/subject-report", body)
        assert response.status_code == 200, response.text
        events += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return events


def verify(operator) -> dict:
    response = HTTP.get(f"{operator.base_url}/api/v1/audit/verify",
                        headers=operator.headers(), timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def database(server) -> sqlite3.Connection:
    return sqlite3.connect(server.env["GATEWAY_DATABASE_URL"].removeprefix("sqlite:///"))


def chain(server) -> list[tuple]:
    with database(server) as connection:
        return connection.execute("SELECT seq, canonical, hash FROM audit_events ORDER BY seq").fetchall()


def checkpoints(server) -> list[tuple]:
    with database(server) as connection:
        return connection.execute(
            "SELECT tree_size, root_hash, note FROM audit_checkpoints ORDER BY tree_size"
        ).fetchall()


def tree(server) -> list[tuple]:
    with database(server) as connection:
        return connection.execute(
            "SELECT level, idx, hash FROM audit_tree_nodes ORDER BY level, idx"
        ).fetchall()


def every_value(server):
    """(table, column, value) for every non-null value of every column of every table."""
    with database(server) as connection:
        tables = [name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            cursor = connection.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - own names
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                for column, value in zip(columns, row, strict=True):
                    if value is not None:
                        yield table, column, value


def purge(server, now: datetime, *extra: str) -> str:
    result = server.cli("retention", "purge", "--now", now.strftime("%Y-%m-%dT%H:%M:%SZ"), *extra)
    return result.stdout


def counts(stdout: str) -> dict[str, int]:
    found = {}
    for line in stdout.splitlines():
        name, _, value = line.rpartition(":")
        found[name.strip()] = int(value)
    return found


def purge_events(server) -> list[str]:
    with database(server) as connection:
        return [reason for (reason,) in connection.execute(
            "SELECT json_extract(canonical, '$.reason') FROM audit_events "
            "WHERE action = 'admin.retention.purge' ORDER BY seq")]


def test_a_purge_after_retention_keeps_the_chain_and_forgets_the_child(
    server, partners, pseudonymiser
):
    school, wij, ggd = partners[ex.SCHOOL], partners[ex.WIJ], partners[ex.GGD]
    leerplicht, operator = partners[ex.LEERPLICHT], partners[ex.OPERATOR]
    # the child's life at the gateway: a leerplicht report (legal obligation, BSN), a consent
    # for support with a request under it, the consent withdrawn, signals that matched and
    # were closed, and a re-identification request by the wijkteam
    send(school, "absence_report", ex.LEERPLICHT, ex.absence_report(TODAY), CHILD)
    consent = post(school, "/api/v1/consents", {
        "subject": {"bsn": CHILD}, "date_of_birth": ex.born(TODAY, 9), "purpose": "support",
        "parties": [ex.SCHOOL, ex.WIJ], "granted_by": [{"role": "parent"}],
        "valid_from": (TODAY - timedelta(days=1)).isoformat(),
        "valid_until": (TODAY + timedelta(days=180)).isoformat(),
        "evidence": {"method": "digital", "reference": "portaal-1919"}})
    assert consent.status_code == 201, consent.text
    send(school, "support_request", ex.WIJ, ex.support_request(TODAY), CHILD)
    [item] = wij.drain()
    leerplicht.drain()
    withdrawn = post(wij, f"/api/v1/consents/{consent.json()['id']}/withdraw",
                     {"withdrawn_by": {"role": "parent"}, "reason": "Gesprek met ouders."})
    assert withdrawn.status_code == 200, withdrawn.text
    signals = []
    for partner in (school, ggd):
        body = {"subject": {"bsn": CHILD}, "category": "wellbeing",
                "contact": {"name": "C", "email": "c@example.nl", "phone": "+31 50 000 0000"}}
        response = post(partner, "/api/v1/signals", body)
        assert response.status_code == 201, response.text
        signals.append((partner, response.json()["id"]))
    for partner, signal_id in signals:
        assert post(partner, f"/api/v1/signals/{signal_id}/close", {}).status_code == 200
        partner.drain()
    wij.drain()
    asked = post(wij, "/api/v1/reidentifications", {
        "pseudonym": item["subject"]["pseudonym"], "reason": "Dossier onvolledig",
        "legal_basis": "Jeugdwet art. 7.4.0"})
    assert asked.status_code == 202, asked.text
    # another child with a signal still open: an open signal is never due, so its trail
    # keeps its references however late the purge
    send(school, "absence_report", ex.LEERPLICHT, ex.absence_report(TODAY), OTHER)
    leerplicht.drain()
    body = {"subject": {"bsn": OTHER}, "category": "wellbeing",
            "contact": {"name": "C", "email": "c@example.nl", "phone": "+31 50 000 0000"}}
    assert post(school, "/api/v1/signals", body).status_code == 201

    before = report(operator, CHILD)
    kinds = {event["action"] for event in before}
    assert {"exchange.send", "consent.record", "consent.withdraw", "signal.create",
            "reidentification.request"} <= kinds, kinds
    openings = {event["subject_opening"] for event in before}
    refs = {event["subject_ref"] for event in before}
    assert None not in openings and len(refs) == 1
    other_before = report(operator, OTHER)
    assert verify(operator)["valid"] is True
    rows_before, checkpoints_before, tree_before = chain(server), checkpoints(server), tree(server)
    assert checkpoints_before, "verify signs a checkpoint of the head"

    # two years on: the consent-based and the closed records are past their terms, the
    # leerplicht exchange record (five years) is not, so the child's trail is kept whole
    now = datetime.now(UTC)
    first = counts(purge(server, now + timedelta(days=800)))
    assert first["consents erased"] == 1
    assert first["signals erased"] == 2
    assert first["reidentification requests erased"] == 1
    assert first["audit child references shredded"] == 0
    assert first["audit child references past their term but kept for a record still kept"] > 0
    assert {e["seq"] for e in before} <= {e["seq"] for e in report(operator, CHILD)}

    # five years and more: everything about the child is past its term
    second = counts(purge(server, now + timedelta(days=1830)))
    assert second["audit child references shredded"] >= len(before)
    held = "audit child references past their term but kept for a record still kept"
    assert second[held] > 0  # the other child's, for its open signal
    # run again at once: nothing is left to erase (the other child's references stay held)
    third = counts(purge(server, now + timedelta(days=1830)))
    assert third.pop(held) == second[held]
    assert set(third.values()) == {0}, third

    # nothing kept names the child any more, in any form the gateway could recompute (read
    # before anyone asks about the child again: that request is itself a new event about it)
    child = Bsn(CHILD)
    needles = {CHILD, *refs, *openings}
    for domain in ("audit", "consent", "match",
                   *(organisation_domain(oin) for oin, _, _ in ex.ORGANISATIONS)):
        needles |= set(pseudonymiser.pseudonymise_child_versions(child, domain))
    for table, column, value in every_value(server):
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        found = [needle for needle in needles if needle in text]
        assert not found, f"{table}.{column} still holds a reference to the child"

    # the chain is whole: every entry, checkpoint and tree node as before, and verify agrees
    assert verify(operator)["valid"] is True
    after = chain(server)
    assert after[: len(rows_before)] == rows_before, "no event was deleted or rewritten"
    assert checkpoints(server)[: len(checkpoints_before)] == checkpoints_before
    assert set(tree_before) <= set(tree(server))
    # the operator's subject report finds none of the purged events; the other child's
    # report still finds all of its own
    purged = {event["seq"] for event in before}
    assert not purged & {event["seq"] for event in report(operator, CHILD)}
    assert {e["seq"] for e in other_before} <= {e["seq"] for e in report(operator, OTHER)}

    # each run is on record with its counts, never the child
    reasons = purge_events(server)
    assert len(reasons) == 3 and all("audit_events=" in r for r in reasons)
    assert "audit_events=0" in reasons[-1]
    assert not any(needle in r for r in reasons for needle in needles)
