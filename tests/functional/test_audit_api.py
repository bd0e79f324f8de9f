"""``/api/v1/audit/*`` through the Flask test client with real tokens and real exchanges.

Visibility (operator all, partner its own), filters and paging, the subject access report,
CSV and JSON Lines exports, verify, proofs checked with the independent RFC 9162 verifier,
and every read and every refusal on record as an audit event.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import uuid
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import select

from gateway import create_app
from gateway.audit.models import AuditEventRow
from gateway.config import Settings
from gateway.keys import KeyStore
from gateway.registry.service import ClientCredentials, OrganisationRegistry
from gateway.storage.database import Database
from pseudonymise import Bsn, DomainPseudonymiser
from tests import exchange_helpers as ex
from tests.audit_helpers import hashed_form
from tests.oauth_helpers import client_assertion, make_client_key, token_form
from tests.unit.gateway.audit.test_audit_rfc9162 import verify_consistency, verify_inclusion

TODAY = ex.today()
PARTNER_SCOPES = ["exchange:send", "exchange:receive", "reidentify:request", "audit:read"]
OPERATOR_SCOPES = ["reidentify:approve", "reidentify:request", "audit:read"]


class Gateway:
    """An app with the organisations of ``tests.exchange_helpers``, one client each, plus a
    school client without ``audit:read``."""

    def __init__(self, database_url: str, keys_dir):
        self.settings = Settings(database_url=database_url, keys_dir=keys_dir)
        self.db = Database(database_url)
        registry = OrganisationRegistry(self.db, production=False)
        self.keys = {}
        for oin, name, type_ in ex.ORGANISATIONS:
            registry.add_organisation(oin, name, type_)
            self._client(registry, oin, f"client-{oin}",
                         OPERATOR_SCOPES if type_ == "operator" else PARTNER_SCOPES)
        self._client(registry, ex.SCHOOL, "school-no-audit", ["exchange:send"])
        self.app = create_app(self.settings)
        self.app.config["TESTING"] = True
        self.client = self.app.test_client()
        self.tokens = {}
        self.pseudonymiser = DomainPseudonymiser(KeyStore(keys_dir, allow_generate=False).keyring)

    def _client(self, registry, oin, client_id, scopes):
        self.keys[client_id] = make_client_key()
        credentials = ClientCredentials("private_key_jwt", jwks=self.keys[client_id].jwks())
        registry.add_client(oin, client_id, credentials, scopes)

    def token(self, oin: str, client_id: str | None = None) -> str:
        client_id = client_id or f"client-{oin}"
        if client_id not in self.tokens:
            assertion = client_assertion(
                self.keys[client_id], client_id, f"{self.settings.issuer}/oauth/token")
            response = self.client.post("/oauth/token", data=token_form(assertion))
            assert response.status_code == 200, response.json
            self.tokens[client_id] = response.json["access_token"]
        return self.tokens[client_id]

    def headers(self, oin, client_id=None, **extra):
        return {"Authorization": f"Bearer {self.token(oin, client_id)}", **extra}

    def get(self, oin, path, client_id=None, **params):
        return self.client.get(path, headers=self.headers(oin, client_id), query_string=params)

    def post(self, oin, path, body=None, client_id=None, **headers):
        headers = self.headers(oin, client_id, **headers)
        if isinstance(body, (bytes, str)):
            return self.client.post(path, data=body, headers=headers)
        if body is None:
            return self.client.post(path, headers=headers)
        return self.client.post(path, json=body, headers=headers)

    def send(self, sender, recipient, bsn=ex.BSN, message_type="absence_report"):
        factory = {"absence_report": ex.absence_report,
                   "homebound_report": ex.homebound_report}[message_type]
        body = {"message_type": message_type, "recipient": recipient,
                "subject": {"bsn": bsn}, "payload": factory(TODAY)}
        return self.post(sender, "/api/v1/exchanges", body, **{"Idempotency-Key": uuid.uuid4().hex})

    def events(self, action=None) -> list[dict]:
        """Every stored event as hashed, plus its (operator-only) ``subject_ref`` index."""
        with self.db.session() as session:
            query = select(AuditEventRow.canonical, AuditEventRow.subject_ref).order_by(
                AuditEventRow.seq)
            if action:
                query = query.where(AuditEventRow.action == action)
            return [json.loads(canonical) | {"subject_ref": ref}
                    for canonical, ref in session.execute(query)]

    def audit_ref(self, bsn: str) -> str:
        return self.pseudonymiser.pseudonymise(Bsn(bsn), "audit")

    def close(self):
        self.app.extensions["gateway"].db.dispose()
        self.db.dispose()


@pytest.fixture
def gw(database_url, keys_dir):
    made = Gateway(database_url, keys_dir)
    yield made
    made.close()


@pytest.fixture
def traffic(gw):
    """Two allowed exchanges about BSN, one about OTHER_BSN, one refused send."""
    assert gw.send(ex.SCHOOL, ex.LEERPLICHT).status_code == 202
    assert gw.send(ex.SCHOOL, ex.SWV).status_code == 202
    other = gw.send(ex.LEERPLICHT, ex.SWV, bsn=ex.OTHER_BSN, message_type="homebound_report")
    assert other.status_code == 202, other.json
    refused = gw.send(ex.SCHOOL, ex.WIJ)
    assert refused.status_code == 403, refused.json
    return gw


def assert_problem(response, status, code):
    assert response.status_code == status, response.get_json()
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json["code"] == code
    if status == 422 or code == "invalid_parameter":
        assert response.json.get("errors")


def recompute_hash(event: dict) -> str:
    return hashlib.sha256(hashed_form(event)).hexdigest()


def test_the_key_is_public_and_verifies_checkpoints(traffic):
    answer = traffic.client.get("/api/v1/audit/key").json
    public = base64.b64decode(answer["public_key"])
    assert answer["algorithm"] == "Ed25519" and len(public) == 32
    name, key_hash, encoded = answer["vkey"].split("+", 2)
    assert base64.b64decode(encoded) == b"\x01" + public
    assert key_hash == answer["key_id"] == hashlib.sha256(
        name.encode() + b"\n\x01" + public).digest()[:4].hex()
    checkpoint = traffic.get(ex.OPERATOR, "/api/v1/audit/verify").json["checkpoint"]
    text, signature_line = checkpoint["note"].split("\n\n")
    signer, signature = signature_line.rstrip("\n").split(" ")[1:]
    assert signer == name and text.split("\n")[0] == name
    raw = base64.b64decode(signature)
    assert raw[:4].hex() == key_hash
    ed25519.Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], (text + "\n").encode())
    assert text.split("\n")[1] == str(checkpoint["tree_size"])
    assert base64.b64decode(text.split("\n")[2]).hex() == checkpoint["root_hash"]


def test_every_exchange_has_one_event_and_the_operator_sees_them_all(traffic):
    sends = traffic.events("exchange.send")
    assert [e["decision"] for e in sends].count("denied") == 1
    page = traffic.get(ex.OPERATOR, "/api/v1/audit/events", action="exchange.send").json
    assert [e["seq"] for e in page["items"]] == [e["seq"] for e in sends]
    for event in page["items"]:
        assert recompute_hash(event) == event["hash"]
        assert ex.BSN not in json.dumps(event) and ex.OTHER_BSN not in json.dumps(event)
    refused = next(e for e in page["items"] if e["decision"] == "denied")
    assert refused["reason"] == "route_not_allowed" and refused["recipient"] == ex.WIJ
    assert refused["subject_ref"] == traffic.audit_ref(ex.BSN)


def partner_concerned(oin: str, event: dict) -> bool:
    """API.md sections 8 and 13: actor or sender, or recipient of anything but a refused send."""
    if oin in (event["actor"]["org"], event["sender"]):
        return True
    refused_send = event["action"] == "exchange.send" and event["decision"] == "denied"
    return event["recipient"] == oin and not refused_send


def test_a_partner_sees_only_events_it_is_part_of(traffic):
    for oin in (ex.SCHOOL, ex.LEERPLICHT, ex.SWV, ex.GGD, ex.WIJ):
        items = traffic.get(oin, "/api/v1/audit/events", limit="500").json["items"]
        for event in items:
            assert partner_concerned(oin, event), event
            assert event["subject_ref"] is None and "subject_opening" not in event
        expected = [e["seq"] for e in traffic.events() if e["seq"] <= items[-1]["seq"]
                    and partner_concerned(oin, e)] if items else []
        assert [e["seq"] for e in items] == expected
    wij = traffic.get(ex.WIJ, "/api/v1/audit/events", action="exchange.send").json
    assert wij["items"] == [], "a refused send reached its would-be recipient's view"
    ggd = traffic.get(ex.GGD, "/api/v1/audit/events", action="exchange.send").json
    assert ggd["items"] == []


def test_filters_and_paging(traffic):
    everything = traffic.get(ex.OPERATOR, "/api/v1/audit/events", limit="500").json["items"]
    denied = traffic.get(ex.OPERATOR, "/api/v1/audit/events", decision="denied").json["items"]
    assert denied and all(e["decision"] == "denied" for e in denied)
    by_org = traffic.get(ex.OPERATOR, "/api/v1/audit/events", org=ex.SWV).json["items"]
    assert by_org and all(ex.SWV in (e["actor"]["org"], e["sender"], e["recipient"]) for e in by_org)
    typed = traffic.get(ex.OPERATOR, "/api/v1/audit/events", message_type="absence_report").json
    assert all(e["message_type"] == "absence_report" for e in typed["items"])
    first, last = everything[0]["at"], everything[-1]["at"]
    window = traffic.get(ex.OPERATOR, "/api/v1/audit/events", **{"from": first, "to": last}).json
    assert window["items"][0]["seq"] == everything[0]["seq"]
    assert all(e["at"] < last for e in window["items"])
    seen, cursor = [], None
    while True:
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = traffic.get(ex.OPERATOR, "/api/v1/audit/events", **params).json
        seen += [e["seq"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen[: len(everything)] == [e["seq"] for e in everything]


@pytest.mark.parametrize("params", [
    {"limit": "0"}, {"limit": "x"}, {"cursor": "bm9wZQ"}, {"from": "yesterday"},
    {"to": "2026-01-01"}, {"org": "123"}, {"decision": "perhaps"}, {"message_type": "x"},
])
def test_bad_search_parameters_are_refused_and_audited(gw, params):
    response = gw.get(ex.SCHOOL, "/api/v1/audit/events", **params)
    assert_problem(response, 400, "invalid_parameter")
    [event] = gw.events("audit.search")
    assert event["decision"] == "denied" and event["reason"] == "invalid_parameter"
    assert event["actor"] == {"org": ex.SCHOOL, "client_id": f"client-{ex.SCHOOL}", "user": None}


def test_every_read_is_itself_an_audit_event(traffic):
    fsc = str(uuid.uuid4())
    traffic.client.get("/api/v1/audit/events", headers=traffic.headers(
        ex.SCHOOL, **{"Fsc-Transaction-Id": fsc}))
    [search] = traffic.events("audit.search")
    assert search["actor"]["org"] == ex.SCHOOL and search["fsc_transaction_id"] == fsc
    traffic.get(ex.SCHOOL, "/api/v1/audit/export", format="jsonl").get_data()
    traffic.get(ex.SCHOOL, "/api/v1/audit/verify")
    traffic.post(ex.SCHOOL, "/api/v1/audit/subject-report", {"subject": {"bsn": ex.BSN}})
    actions = [e["action"] for e in traffic.events() if e["action"].startswith("audit.")]
    assert actions == ["audit.search", "audit.export", "audit.verify", "audit.subject_report"]


def test_without_the_scope_reads_are_refused_and_audited(gw):
    response = gw.get(ex.SCHOOL, "/api/v1/audit/events", client_id="school-no-audit")
    assert_problem(response, 403, "insufficient_scope")
    response = gw.post(ex.SCHOOL, "/api/v1/audit/subject-report", {"subject": {"bsn": ex.BSN}},
                       client_id="school-no-audit")
    assert_problem(response, 403, "insufficient_scope")
    refusals = [(e["action"], e["decision"], e["reason"]) for e in gw.events()
                if e["action"].startswith("audit.")]
    assert refusals == [("audit.search", "denied", "insufficient_scope"),
                        ("audit.subject_report", "denied", "insufficient_scope")]
    assert gw.client.get("/api/v1/audit/events").status_code == 401


def test_the_subject_report_returns_that_childs_events_only(traffic):
    ref = traffic.audit_ref(ex.BSN)
    response = traffic.post(ex.OPERATOR, "/api/v1/audit/subject-report", {"subject": {"bsn": ex.BSN}})
    assert response.status_code == 200, response.json
    items = response.json["items"]
    assert all(e["subject_ref"] == ref for e in items)
    expected = [e["seq"] for e in traffic.events() if e["subject_ref"] == ref]
    assert [e["seq"] for e in items] == expected
    assert items[-1]["action"] == "audit.subject_report"  # this very report is on record
    other = traffic.post(ex.OPERATOR, "/api/v1/audit/subject-report",
                         {"subject": {"bsn": ex.OTHER_BSN}}).json["items"]
    assert not {e["seq"] for e in other} & set(expected)
    assert ex.BSN not in response.get_data(as_text=True)
    # a partner's report by BSN holds only events in which it named or received the BSN:
    # the school sent it; the SWV received a pseudonym, so by BSN it gets only its own report
    school = traffic.post(ex.SCHOOL, "/api/v1/audit/subject-report",
                          {"subject": {"bsn": ex.BSN}}).json["items"]
    assert any(e["action"] == "exchange.send" for e in school)
    assert all(partner_concerned(ex.SCHOOL, e) for e in school)
    swv = traffic.post(ex.SWV, "/api/v1/audit/subject-report", {"subject": {"bsn": ex.BSN}}).json
    assert [e["action"] for e in swv["items"]] == ["audit.subject_report"]


def test_subject_report_paging(traffic):
    body = {"subject": {"bsn": ex.BSN}, "limit": 1}
    first = traffic.post(ex.OPERATOR, "/api/v1/audit/subject-report", body).json
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = traffic.post(ex.OPERATOR, "/api/v1/audit/subject-report",
                          body | {"cursor": first["next_cursor"]}).json
    assert second["items"][0]["seq"] > first["items"][0]["seq"]


@pytest.mark.parametrize("body, status, code, named", [
    ({"subject": {"bsn": "123456789"}}, 422, "validation_failed", False),
    ({"subject": {"bsn": ex.BSN}, "limit": 0}, 400, "invalid_parameter", True),
    ({"subject": {"bsn": ex.BSN}, "cursor": "bm9wZQ"}, 400, "invalid_parameter", True),
    ({"subject": {"pseudonym": "abc", "bsn": ex.BSN}}, 422, "validation_failed", True),
    ({}, 422, "validation_failed", False),
])
def test_bad_subject_reports_are_refused_and_audited(gw, body, status, code, named):
    assert_problem(gw.post(ex.SCHOOL, "/api/v1/audit/subject-report", body), status, code)
    [event] = gw.events("audit.subject_report")
    assert event["decision"] == "denied" and event["reason"] == code
    assert event["subject_ref"] == (gw.audit_ref(ex.BSN) if named else None)


@pytest.mark.parametrize("raw, content_type, status, code", [
    ("", "application/json", 400, "invalid_json"),
    ('{"subject": {"bsn": "111222333"}, "subject": {}}', "application/json", 400, "invalid_json"),
    ("subject=1", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
])
def test_subject_report_bodies_are_read_strictly(gw, raw, content_type, status, code):
    response = gw.client.post("/api/v1/audit/subject-report", data=raw,
                              headers=gw.headers(ex.SCHOOL, **{"Content-Type": content_type}))
    assert_problem(response, status, code)
    [event] = gw.events("audit.subject_report")
    assert event["reason"] == code


def test_exports_stream_every_visible_event_without_any_bsn(traffic):
    jsonl = traffic.get(ex.OPERATOR, "/api/v1/audit/export", format="jsonl")
    assert jsonl.status_code == 200 and jsonl.mimetype == "application/x-ndjson"
    lines = jsonl.get_data(as_text=True).splitlines()
    events = [json.loads(line) for line in lines]
    stored = traffic.events()
    assert [e["seq"] for e in events] == [e["seq"] for e in stored][: len(events)]
    assert events[-1]["action"] == "audit.export"
    for event in events:
        assert recompute_hash(event) == event["hash"]
    for bsn in (ex.BSN, ex.OTHER_BSN):
        assert all(bsn not in line for line in lines)
    exported = traffic.get(ex.OPERATOR, "/api/v1/audit/export", format="csv")
    assert exported.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert list(rows[0])[:4] == ["seq", "at", "action", "actor.org"]
    by_seq = {int(row["seq"]): row for row in rows}
    for event in events:
        row = by_seq[event["seq"]]
        assert row["hash"] == event["hash"] and row["actor.org"] == (event["actor"]["org"] or "")
        assert row["fields_forwarded"] == ";".join(event["fields_forwarded"])
        assert row["legal_basis.type"] == ((event["legal_basis"] or {}).get("type") or "")
        assert row["reason"] == (event["reason"] or "")
    assert ex.BSN not in exported.get_data(as_text=True)


def test_a_partners_export_and_time_window(traffic):
    lines = traffic.get(ex.LEERPLICHT, "/api/v1/audit/export", format="jsonl").get_data(as_text=True)
    events = [json.loads(line) for line in lines.splitlines()]
    assert events and all(ex.LEERPLICHT in (e["actor"]["org"], e["sender"], e["recipient"])
                          for e in events)
    later = (ex.today() + timedelta(days=2)).isoformat() + "T00:00:00Z"
    empty = traffic.get(ex.OPERATOR, "/api/v1/audit/export", format="csv", **{"from": later})
    assert empty.get_data(as_text=True).count("\n") == 1  # the header only
    assert_problem(traffic.get(ex.OPERATOR, "/api/v1/audit/export", format="xml"), 400,
                   "invalid_parameter")
    assert traffic.events("audit.export")[-1]["decision"] == "denied"


def test_verify_answers_and_gives_a_fresh_checkpoint(traffic):
    answer = traffic.get(ex.SWV, "/api/v1/audit/verify").json
    stored = traffic.events()
    assert answer["valid"] is True and answer["first_invalid_seq"] is None
    assert answer["entries"] == stored[-1]["seq"]
    assert answer["head_hash"] == recompute_hash(stored[-1])
    assert answer["checkpoint"]["tree_size"] == answer["entries"]


def test_proofs_for_an_exchange_verify_independently(gw):
    accepted = gw.send(ex.SCHOOL, ex.LEERPLICHT).json
    receipt = accepted["audit"]
    proof = gw.get(ex.SCHOOL, f"/api/v1/audit/proof/{receipt['seq']}").json
    [event] = [e for e in gw.get(ex.SCHOOL, "/api/v1/audit/events").json["items"]
               if e["seq"] == receipt["seq"]]
    assert event["hash"] == receipt["hash"] and event["exchange_id"] == accepted["id"]
    entry = hashed_form(event)
    leaf = hashlib.sha256(b"\x00" + entry).digest()
    assert proof["leaf_hash"] == leaf.hex()
    path = [bytes.fromhex(h) for h in proof["audit_path"]]
    assert verify_inclusion(proof["leaf_index"], proof["tree_size"], leaf, path,
                            bytes.fromhex(proof["root_hash"]))
    assert proof["checkpoint"]["root_hash"] == proof["root_hash"]
    for _ in range(3):
        gw.send(ex.SCHOOL, ex.SWV)
    newer = gw.get(ex.SCHOOL, f"/api/v1/audit/proof/{receipt['seq'] + 3}").json
    consistency = gw.get(ex.SCHOOL, "/api/v1/audit/consistency", from_size=proof["tree_size"],
                         to_size=newer["tree_size"]).json
    assert verify_consistency(
        proof["tree_size"], newer["tree_size"], bytes.fromhex(consistency["from_root"]),
        bytes.fromhex(consistency["to_root"]), [bytes.fromhex(h) for h in consistency["proof"]])
    assert consistency["to_root"] == newer["root_hash"]


@pytest.mark.parametrize("path, params, status, code", [
    ("/api/v1/audit/proof/0", {}, 400, "invalid_parameter"),
    ("/api/v1/audit/proof/abc", {}, 400, "invalid_parameter"),
    ("/api/v1/audit/proof/999999", {}, 404, "not_found"),
    ("/api/v1/audit/proof/1", {"tree_size": "77777"}, 400, "invalid_parameter"),
    ("/api/v1/audit/consistency", {"from_size": "1"}, 400, "invalid_parameter"),
    ("/api/v1/audit/consistency", {"from_size": "1", "to_size": "99999"}, 400,
     "invalid_parameter"),
])
def test_proof_parameters(traffic, path, params, status, code):
    assert_problem(traffic.get(ex.SCHOOL, path, **params), status, code)


def test_a_malformed_transaction_id_is_refused_and_audited(gw):
    response = gw.client.get("/api/v1/audit/events", headers=gw.headers(
        ex.SCHOOL, **{"Fsc-Transaction-Id": "not-a-uuid"}))
    assert_problem(response, 400, "invalid_parameter")
    assert "Fsc-Transaction-Id" in response.json["errors"]
    [event] = gw.events("audit.search")
    assert event["decision"] == "denied" and event["reason"] == "invalid_parameter"


def test_retention_erases_payloads_but_every_audit_entry_stays(gw):
    from datetime import UTC, datetime

    from gateway.audit.log import AuditLog
    from gateway.exchange.retention import purge_expired

    accepted = gw.send(ex.SCHOOL, ex.LEERPLICHT).json
    before = gw.events()
    with gw.app.app_context():  # the app's checkpointer signs as in a request
        erased = purge_expired(gw.db, AuditLog(), datetime.now(UTC) + timedelta(days=3650))
    assert erased >= 1
    after = gw.events()
    assert after[: len(before)] == before
    assert any(e["exchange_id"] == accepted["id"] and e["action"] == "exchange.dead_letter"
               for e in after[len(before):])
    assert gw.get(ex.OPERATOR, "/api/v1/audit/verify").json["valid"] is True


def test_a_partner_gets_proofs_of_its_own_events_only(traffic):
    """Issue 16: proofs of another organisation's events are not the partner's to fetch; the
    answer is the one for an entry that does not exist. Every proof read is on record."""
    events = traffic.events()
    theirs = next(e for e in events if e["action"] == "exchange.send"
                  and ex.SWV not in (e["sender"], e["recipient"], e["actor"]["org"]))
    mine = next(e for e in events if e["action"] == "exchange.send" and e["recipient"] == ex.SWV)
    refused = traffic.get(ex.SWV, f"/api/v1/audit/proof/{theirs['seq']}")
    missing = traffic.get(ex.SWV, "/api/v1/audit/proof/999999")
    assert_problem(refused, 404, "not_found")
    assert refused.json["detail"] == missing.json["detail"]
    assert traffic.get(ex.SWV, f"/api/v1/audit/proof/{mine['seq']}").status_code == 200
    assert traffic.get(ex.OPERATOR, f"/api/v1/audit/proof/{theirs['seq']}").status_code == 200
    proofs = [(e["actor"]["org"], e["decision"]) for e in traffic.events("audit.proof")]
    assert proofs == [(ex.SWV, "denied"), (ex.SWV, "denied"), (ex.SWV, "allowed"),
                      (ex.OPERATOR, "allowed")]


def test_verify_walks_the_chain_once_for_repeated_callers(traffic):
    """A second verify within the cache time reuses the walk and checks only the new tail,
    so its checkpoint still covers every entry; a broken tail is still found."""
    first = traffic.get(ex.SCHOOL, "/api/v1/audit/verify").json
    assert traffic.send(ex.SCHOOL, ex.SWV).status_code == 202
    second = traffic.get(ex.SWV, "/api/v1/audit/verify").json
    assert second["valid"] is True and second["verified_at"] == first["verified_at"]
    assert second["entries"] > first["entries"]
    assert second["checkpoint"]["tree_size"] >= second["entries"] - 1
    with traffic.db.write_session() as session:  # break the newest link
        newest = session.scalar(select(AuditEventRow).order_by(AuditEventRow.seq.desc()).limit(1))
        newest.hash = "0" * 64
    third = traffic.get(ex.OPERATOR, "/api/v1/audit/verify").json
    assert third["valid"] is False and third["verified_at"] != first["verified_at"]
