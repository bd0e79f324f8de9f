"""The audit log against a real gunicorn server (two workers) with real OAuth clients.

Every allowed and every refused exchange leaves exactly one event with the right fields; no
export line holds a BSN; the subject report holds that child's events only; a partner sees
only its own events; proofs verify with the independent RFC 9162 verifier; and ``gateway
audit verify`` finds the exact first invalid entry of a tampered copy of the database.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import rfc8785

from gateway.keys import KeyStore
from pseudonymise import Bsn, DomainPseudonymiser, generate_valid_bsns, is_valid_bsn
from tests import exchange_helpers as ex
from tests.audit_helpers import hashed_form
from tests.e2e.partners import register_partners
from tests.unit.gateway.audit.test_audit_rfc9162 import verify_consistency, verify_inclusion

TODAY = ex.today()
CHILD = next(generate_valid_bsns(1, seed=606))  # only this module's exchanges name this child
USED_BSNS = {ex.BSN, ex.OTHER_BSN, CHILD}
STANDALONE_NINE_DIGITS = re.compile(r"(?<![0-9A-Za-z])[0-9]{9}(?![0-9A-Za-z])")


@pytest.fixture(scope="module")
def partners(live_server, tmp_path_factory):
    return register_partners(live_server, tmp_path_factory.mktemp("audit-partners"))


@pytest.fixture(scope="module")
def pseudonymiser(live_server):
    keys = KeyStore(Path(live_server.env["GATEWAY_KEYS_DIR"]), allow_generate=False)
    return DomainPseudonymiser(keys.keyring)


def get(partner, path, **params):
    response = requests.get(f"{partner.base_url}{path}", headers=partner.headers(),
                            params=params, timeout=30)
    return response


def all_events(partner, **params) -> list[dict]:
    events, cursor = [], None
    while True:
        page = get(partner, "/api/v1/audit/events", limit="500",
                   **params, **({"cursor": cursor} if cursor else {}))
        assert page.status_code == 200, page.text
        events += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return events


def recompute(event: dict) -> str:
    return hashlib.sha256(hashed_form(event)).hexdigest()


def since() -> str:
    return (datetime.now(UTC) - timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_every_exchange_leaves_one_event_with_the_right_fields(partners, pseudonymiser):
    school, operator = partners[ex.SCHOOL], partners[ex.OPERATOR]
    start = since()
    sent = {}
    # allowed, identity by BSN, and allowed, by pseudonym with minimisation
    for name, recipient in (("bsn_route", ex.LEERPLICHT), ("pseudonym_route", ex.SWV)):
        transaction = str(uuid.uuid4())
        response = school.send("absence_report", recipient, ex.absence_report(TODAY),
                               subject={"bsn": CHILD}, headers={"Fsc-Transaction-Id": transaction})
        assert response.status_code == 202, response.text
        sent[name] = (transaction, response.json())
    # refused: a route that does not exist, a malformed body, a token without the scope
    transaction = str(uuid.uuid4())
    refused = school.send("absence_report", ex.WIJ, ex.absence_report(TODAY),
                          subject={"bsn": CHILD}, headers={"Fsc-Transaction-Id": transaction})
    assert refused.status_code == 403
    sent["route"] = (transaction, None)
    transaction = str(uuid.uuid4())
    malformed = requests.post(
        f"{school.base_url}/api/v1/exchanges", data=b'{"a": 1, "a": 2}', timeout=10,
        headers=school.headers(**{"Content-Type": "application/json", "Idempotency-Key": "k1",
                                  "Fsc-Transaction-Id": transaction}))
    assert malformed.status_code == 400
    sent["body"] = (transaction, None)
    transaction = str(uuid.uuid4())
    no_scope = requests.post(
        f"{school.base_url}/api/v1/exchanges", json={}, timeout=10,
        headers={"Authorization": f"Bearer {school.token('exchange:receive')}",
                 "Fsc-Transaction-Id": transaction, "Idempotency-Key": "k2"})
    assert no_scope.status_code == 403
    sent["scope"] = (transaction, None)

    events = all_events(operator, action="exchange.send", **{"from": start})
    by_transaction = {}
    for event in events:
        by_transaction.setdefault(event["fsc_transaction_id"], []).append(event)
    child_ref = pseudonymiser.pseudonymise(Bsn(CHILD), "audit")
    common = {"action": "exchange.send", "sender": ex.SCHOOL,
              "actor": {"org": ex.SCHOOL, "client_id": school.client_id, "user": None}}

    [bsn_event] = by_transaction[sent["bsn_route"][0]]
    accepted = sent["bsn_route"][1]
    assert bsn_event | common == bsn_event
    assert bsn_event["seq"] == accepted["audit"]["seq"] and bsn_event["hash"] == accepted["audit"]["hash"]
    assert bsn_event["exchange_id"] == accepted["id"] and bsn_event["decision"] == "allowed"
    assert bsn_event["recipient"] == ex.LEERPLICHT and bsn_event["message_type"] == "absence_report"
    assert bsn_event["purpose"] == "leerplicht_enforcement" and bsn_event["reason"] is None
    assert bsn_event["legal_basis"] == {"type": "legal_obligation",
                                        "citation": "Leerplichtwet 1969 art. 21a"}
    assert bsn_event["fields_forwarded"] == list(ex.absence_report(TODAY))
    assert bsn_event["fields_dropped"] == [] and bsn_event["fields_generalised"] == []
    assert bsn_event["subject_ref"] == child_ref

    [pseudonym_event] = by_transaction[sent["pseudonym_route"][0]]
    assert pseudonym_event["recipient"] == ex.SWV and pseudonym_event["purpose"] == "passend_onderwijs"
    assert pseudonym_event["fields_generalised"] == ["date_of_birth->birth_year"]
    assert set(pseudonym_event["fields_dropped"]) == {"grade", "contact", "remarks"}
    assert "birth_year" in pseudonym_event["fields_forwarded"]
    assert pseudonym_event["subject_ref"] == child_ref

    for name, reason, ref in (("route", "route_not_allowed", child_ref),
                              ("body", "invalid_json", None), ("scope", "insufficient_scope", None)):
        [event] = by_transaction[sent[name][0]]
        assert event | common == event, name
        assert event["decision"] == "denied" and event["reason"] == reason, name
        assert event["exchange_id"] is None and event["subject_ref"] == ref, name
    for event in events:
        assert recompute(event) == event["hash"]
    for partner in (partners[ex.LEERPLICHT], partners[ex.SWV]):
        partner.drain()


def test_exports_hold_no_bsn(partners):
    operator = partners[ex.OPERATOR]
    for fmt in ("jsonl", "csv"):
        response = get(operator, "/api/v1/audit/export", format=fmt)
        assert response.status_code == 200
        lines = response.text.splitlines()
        assert len(lines) > 5
        for line in lines:
            assert not any(bsn in line for bsn in USED_BSNS), line
            assert not [n for n in STANDALONE_NINE_DIGITS.findall(line) if is_valid_bsn(n)], line
    events = [json.loads(line) for line in get(operator, "/api/v1/audit/export",
                                               format="jsonl").text.splitlines()]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert all(recompute(e) == e["hash"] for e in events)


def test_the_subject_report_holds_that_childs_events_only(partners, pseudonymiser):
    school, operator = partners[ex.SCHOOL], partners[ex.OPERATOR]
    child = next(generate_valid_bsns(1, seed=4242))
    assert school.send("absence_report", ex.LEERPLICHT, ex.absence_report(TODAY),
                       subject={"bsn": child}).status_code == 202
    assert school.send("absence_report", ex.LEERPLICHT, ex.absence_report(TODAY)).status_code == 202
    partners[ex.LEERPLICHT].drain()
    report = requests.post(f"{operator.base_url}/api/v1/audit/subject-report",
                           json={"subject": {"bsn": child}, "limit": 500},
                           headers=operator.headers(), timeout=30)
    assert report.status_code == 200, report.text
    ref = pseudonymiser.pseudonymise(Bsn(child), "audit")
    items = report.json()["items"]
    everything = all_events(operator)
    assert [e["seq"] for e in items] == [e["seq"] for e in everything if e["subject_ref"] == ref
                                         and e["seq"] <= items[-1]["seq"]]
    assert [e["action"] for e in items] == [
        "exchange.send", "exchange.deliver", "exchange.ack", "audit.subject_report"]
    assert child not in report.text


def test_a_partner_sees_only_its_own_events(partners):
    quiet, school = partners[ex.GGD_2], partners[ex.SCHOOL]
    for partner in (quiet, school, partners[ex.LEERPLICHT]):
        events = all_events(partner)
        assert events
        for event in events:
            assert partner.oin in (event["actor"]["org"], event["sender"], event["recipient"])
    assert {e["action"] for e in all_events(quiet)} <= {"audit.search", "admin.organisation.create",
                                                        "admin.organisation.update"}
    assert len(all_events(partners[ex.OPERATOR])) > len(all_events(school))


def test_verify_and_proofs_over_http(partners):
    school = partners[ex.SCHOOL]
    accepted = school.send("absence_report", ex.LEERPLICHT, ex.absence_report(TODAY)).json()
    partners[ex.LEERPLICHT].drain()
    verified = get(school, "/api/v1/audit/verify").json()
    assert verified["valid"] is True and verified["first_invalid_seq"] is None
    assert verified["checkpoint"]["tree_size"] >= accepted["audit"]["seq"]
    seq = accepted["audit"]["seq"]
    proof = get(school, f"/api/v1/audit/proof/{seq}").json()
    [event] = [e for e in all_events(school, action="exchange.send") if e["seq"] == seq]
    leaf = hashlib.sha256(b"\x00" + hashed_form(event)).digest()
    path = [bytes.fromhex(h) for h in proof["audit_path"]]
    assert verify_inclusion(seq - 1, proof["tree_size"], leaf, path, bytes.fromhex(proof["root_hash"]))
    assert not verify_inclusion(seq - 1, proof["tree_size"], hashlib.sha256(b"\x00x").digest(),
                                path, bytes.fromhex(proof["root_hash"]))
    school.send("absence_report", ex.LEERPLICHT, ex.absence_report(TODAY))
    partners[ex.LEERPLICHT].drain()
    newer = get(school, "/api/v1/audit/verify").json()["checkpoint"]
    consistency = get(school, "/api/v1/audit/consistency", from_size=proof["tree_size"],
                      to_size=newer["tree_size"]).json()
    assert consistency["from_root"] == proof["root_hash"]
    assert consistency["to_root"] == newer["root_hash"]
    assert verify_consistency(proof["tree_size"], newer["tree_size"],
                              bytes.fromhex(consistency["from_root"]),
                              bytes.fromhex(consistency["to_root"]),
                              [bytes.fromhex(h) for h in consistency["proof"]])
    key = requests.get(f"{school.base_url}/api/v1/audit/key", timeout=10).json()
    assert newer["key_id"] == key["key_id"]


# the CLI on a copy of the live database -------------------------------------------------------
def copy_database(server, target: Path) -> Path:
    source = sqlite3.connect(server.env["GATEWAY_DATABASE_URL"].removeprefix("sqlite:///"))
    copy = sqlite3.connect(target)
    source.backup(copy)
    source.close()
    copy.close()
    return target


def cli_verify(server, database: Path) -> subprocess.CompletedProcess:
    env = dict(server.env, GATEWAY_DATABASE_URL=f"sqlite:///{database}")
    return subprocess.run([sys.executable, "-m", "gateway.cli", "audit", "verify", "--no-record"],
                          env=env, capture_output=True, text=True, timeout=120, cwd=server.instance)


def tamper(database: Path, statements: list[tuple[str, tuple]]) -> None:
    with sqlite3.connect(database) as connection:
        for statement, values in statements:
            connection.execute(statement, values)


def test_cli_verify_finds_the_first_invalid_entry(live_server, partners, tmp_path):
    result = live_server.cli("audit", "verify")
    assert json.loads(result.stdout)["valid"] is True
    pristine = copy_database(live_server, tmp_path / "pristine.db")
    with sqlite3.connect(pristine) as connection:
        entries = connection.execute("SELECT max(seq) FROM audit_events").fetchone()[0]
        rows = dict(connection.execute("SELECT seq, canonical FROM audit_events").fetchall())
    assert entries > 20
    target = entries // 2

    def case(name, statements):
        database = tmp_path / f"{name}.db"
        shutil.copy(pristine, database)
        tamper(database, statements)
        return cli_verify(live_server, database)

    event = json.loads(rows[target])
    event["action"] = "exchange.ack" if event["action"] != "exchange.ack" else "exchange.send"
    changed = rfc8785.dumps(event).decode()
    outcomes = {
        "field": case("field", [("UPDATE audit_events SET canonical = ? WHERE seq = ?",
                                 (changed, target))]),
        "field_and_hash": case("rehash", [(
            "UPDATE audit_events SET canonical = ?, hash = ? WHERE seq = ?",
            (changed, hashlib.sha256(changed.encode()).hexdigest(), target))]),
        "delete": case("delete", [("DELETE FROM audit_events WHERE seq = ?", (target,))]),
        "reorder": case("reorder", [
            ("UPDATE audit_events SET seq = -1 WHERE seq = ?", (target,)),
            ("UPDATE audit_events SET seq = ? WHERE seq = ?", (target, target + 1)),
            ("UPDATE audit_events SET seq = ? WHERE seq = -1", (target + 1,))]),
    }
    for name, outcome in outcomes.items():
        assert outcome.returncode == 1, (name, outcome.stdout, outcome.stderr)
        report = json.loads(outcome.stdout)
        assert report["valid"] is False and report["first_invalid_seq"] == target, name
        assert f"first invalid seq {target}" in outcome.stderr, name
    with sqlite3.connect(pristine) as connection:
        size, note = connection.execute(
            "SELECT tree_size, note FROM audit_checkpoints ORDER BY tree_size LIMIT 1").fetchone()
    text_part, signature = note.rstrip("\n").rsplit(" ", 1)
    forged = f"{text_part} {signature[:12]}{'B' if signature[12] == 'A' else 'A'}{signature[13:]}\n"
    outcome = case("forged", [("UPDATE audit_checkpoints SET note = ? WHERE tree_size = ?",
                               (forged, size))])
    assert outcome.returncode == 1 and json.loads(outcome.stdout)["invalid_checkpoints"] == [size]
    assert cli_verify(live_server, pristine).returncode == 0


def test_cli_export_writes_every_event_without_a_bsn(live_server, partners, tmp_path):
    out = tmp_path / "audit.csv"
    live_server.cli("audit", "export", "--format", "csv", "--out", str(out))
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("seq,at,action,actor.org,")
    assert not any(bsn in text for bsn in USED_BSNS)
    jsonl = live_server.cli("audit", "export", "--format", "jsonl").stdout.splitlines()
    assert json.loads(jsonl[-1])["action"] == "audit.export"
    assert json.loads(jsonl[-1])["actor"] == {"org": None, "client_id": None,
                                              "user": "gateway audit export"}
