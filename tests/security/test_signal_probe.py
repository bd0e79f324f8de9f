"""API.md section 13 rules 5 and 6: signals are no oracle for who is involved with a child.

Without these limits any client with ``signal:write`` could open a signal on any BSN, read at
once from its inbox which organisations (with their contact) have one, close it again and
repeat for the next BSN. The attacks below are made as a partner would, over HTTP (the Flask
test client with real tokens):

- an organisation opens signals until the configured per-organisation limit answers 429 with
  a ``Retry-After`` of at least one second, also for its second client and for closing;
- an organisation of a type that the signal policy does not name may not signal at all: 403
  ``signal_not_allowed``, nothing stored about the child, nobody told;
- a signal opened and closed without an exchange about that child in between is counted in
  ``gateway_signal_probes_total``; one with an exchange in between is not;
- every ``signal_match`` is an audit event naming who learned (``recipient``) of whom
  (``sender``), one per direction.
"""

from __future__ import annotations

import json
import uuid

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from gateway import create_app
from gateway.audit.models import AuditEventRow
from gateway.config import Settings
from gateway.exchange.models import Message
from gateway.registry.service import ClientCredentials, OrganisationRegistry
from gateway.signals.models import SignalMatchRow, SignalRow
from pseudonymise import Bsn, organisation_domain
from tests import exchange_helpers as ex
from tests.functional.test_signal_api import CATEGORIES, CONTACTS, Partners
from tests.oauth_helpers import client_assertion, make_client_key, token_form


class SignalWorld(Partners):
    """The demo organisations, a gateway configured from ``environ`` (as a deployment would
    be), and helpers for the attacker's second client and for raw signal requests."""

    def __init__(self, database_url: str, keys_dir, tmp_path, environ: dict | None = None):
        super().__init__(database_url, keys_dir)
        self.app.extensions["gateway"].db.dispose()
        self.settings = Settings.from_env(
            {
                "GATEWAY_DATABASE_URL": database_url,
                "GATEWAY_KEYS_DIR": str(keys_dir),
                "GATEWAY_INSTANCE_DIR": str(tmp_path),
                **(environ or {}),
            }
        )
        self.app = create_app(self.settings)
        self.app.config["TESTING"] = True
        self.client = self.app.test_client()
        self.extra_tokens: dict[str, str] = {}

    def extra_client(self, oin: str, client_id: str, scopes: list[str]) -> str:
        """Register one more client of ``oin`` and return a token for it."""
        key = make_client_key()
        OrganisationRegistry(self.db, production=False).add_client(
            oin, client_id, ClientCredentials("private_key_jwt", jwks=key.jwks()), scopes
        )
        assertion = client_assertion(key, client_id, f"{self.settings.issuer}/oauth/token")
        response = self.client.post("/oauth/token", data=token_form(assertion, None))
        assert response.status_code == 200, response.json
        return response.json["access_token"]

    def open_signal(self, oin: str, bsn: str = ex.BSN, token: str | None = None):
        body = {"subject": {"bsn": bsn}, "category": CATEGORIES.get(oin, "other"),
                "contact": CONTACTS.get(oin, {"name": "Beheer", "email": "beheer@example.nl"})}
        headers = {"Authorization": f"Bearer {token or self.token(oin)}"}
        return self.client.post("/api/v1/signals", json=body, headers=headers)

    def send_absence_report(self, bsn: str = ex.BSN):
        body = {"message_type": "absence_report", "recipient": ex.LEERPLICHT,
                "subject": {"bsn": bsn}, "payload": ex.absence_report(ex.today())}
        response = self.post(ex.SCHOOL, "/api/v1/exchanges", body,
                             **{"Idempotency-Key": str(uuid.uuid4())})
        assert response.status_code in (200, 201, 202), response.json
        return response


@pytest.fixture
def world(sqlite_url, keys_dir, tmp_path):
    partners = SignalWorld(sqlite_url, keys_dir, tmp_path)
    yield partners
    partners.close()


def assert_problem(response, status: int, code: str) -> None:
    assert response.status_code == status, response.json
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json["code"] == code
    assert ex.BSN not in response.get_data(as_text=True)


def assert_retry_after(response) -> None:
    assert int(response.headers["Retry-After"]) >= 1, response.headers


def probes(org_type: str) -> float:
    return REGISTRY.get_sample_value("gateway_signal_probes_total", {"org_type": org_type}) or 0.0


# rule 5: rate limit -------------------------------------------------------------------------
def test_signals_are_limited_per_organisation_at_the_configured_number(sqlite_url, keys_dir,
                                                                       tmp_path):
    world = SignalWorld(sqlite_url, keys_dir, tmp_path, {"GATEWAY_RATE_LIMIT_SIGNALS": "3/hour"})
    try:
        bsns = ["111222333", "123456782", "999999990", "111111110"]
        answers = [world.open_signal(ex.SCHOOL, bsn) for bsn in bsns]
        assert [a.status_code for a in answers] == [201, 201, 201, 429]
        assert_problem(answers[-1], 429, "too_many_requests")
        assert_retry_after(answers[-1])
        assert world.count(SignalRow) == 3  # the refused signal stored nothing
        # a second client of the same organisation shares the organisation's limit
        second = world.extra_client(ex.SCHOOL, "school-second", ["signal:write"])
        again = world.open_signal(ex.SCHOOL, "111111110", token=second)
        assert_problem(again, 429, "too_many_requests")
        assert_retry_after(again)
        # closing is a signal write of the same organisation too
        closing = world.close_signal(ex.SCHOOL, answers[0].json["id"])
        assert_problem(closing, 429, "too_many_requests")
        # another organisation has its own allowance
        assert world.open_signal(ex.GGD, "111111110").status_code == 201
        assert world.count(SignalRow) == 4
    finally:
        world.close()


def test_the_default_limit_stops_a_bulk_probe_within_the_hour(world):
    statuses = [world.open_signal(ex.GGD, ex.BSN).status_code for _ in range(31)]
    assert statuses[:30] == [201] * 30
    assert statuses[30] == 429


def test_a_malformed_signal_limit_is_refused_at_start(sqlite_url, keys_dir, tmp_path):
    from gateway.config import ConfigurationError

    with pytest.raises(ConfigurationError, match="GATEWAY_RATE_LIMIT_SIGNALS"):
        Settings.from_env({"GATEWAY_DATABASE_URL": sqlite_url,
                           "GATEWAY_RATE_LIMIT_SIGNALS": "lots"})


# rule 5: organisation types -------------------------------------------------------------------
def test_a_type_the_signal_policy_does_not_name_may_not_signal(world):
    world.signal(ex.SCHOOL)  # someone is involved with the child
    operator = world.extra_client(ex.OPERATOR, "operator-signals", ["signal:write"])
    before = world.count(AuditEventRow)
    answer = world.open_signal(ex.OPERATOR, token=operator)
    assert_problem(answer, 403, "signal_not_allowed")
    # nothing stored about the child, nobody told, nobody learned
    with world.db.session() as session:
        stored = session.scalars(select(SignalRow.client_id)).all()
    assert stored == [f"client-{ex.SCHOOL}"]
    assert world.count(SignalMatchRow) == 0 and world.count(Message) == 0
    assert world.inbox(ex.SCHOOL) == []
    # one audit event: signal.create denied, by the authenticated caller, naming no child
    assert world.count(AuditEventRow) == before + 1
    with world.db.session() as session:
        row = session.scalars(select(AuditEventRow).order_by(AuditEventRow.seq.desc())).first()
    event = json.loads(row.canonical)
    assert (event["action"], event["decision"]) == ("signal.create", "denied")
    assert event["actor"]["org"] == ex.OPERATOR
    assert event["actor"]["client_id"] == "operator-signals"
    assert event["reason"] == "signal_not_allowed"
    assert row.subject_ref is None
    assert ex.BSN not in row.canonical


# rule 5: probes -------------------------------------------------------------------------------
def test_open_then_close_without_an_exchange_counts_as_a_probe(world):
    before = probes("school")
    opened = world.signal(ex.SCHOOL)
    assert world.close_signal(ex.SCHOOL, opened["id"]).status_code == 200
    assert probes("school") == before + 1
    # closing again is not a second probe
    assert world.close_signal(ex.SCHOOL, opened["id"]).status_code == 200
    assert probes("school") == before + 1


def test_an_exchange_about_another_child_does_not_clear_the_probe(world):
    before = probes("school")
    opened = world.signal(ex.SCHOOL)
    world.send_absence_report(bsn=ex.OTHER_BSN)
    world.close_signal(ex.SCHOOL, opened["id"])
    assert probes("school") == before + 1


def test_a_signal_with_an_exchange_sent_in_between_is_no_probe(world):
    before = probes("school")
    opened = world.signal(ex.SCHOOL)
    world.send_absence_report()
    world.close_signal(ex.SCHOOL, opened["id"])
    assert probes("school") == before


def test_a_signal_with_an_exchange_received_in_between_is_no_probe(world):
    before = probes("leerplicht")
    opened = world.signal(ex.LEERPLICHT)
    world.send_absence_report()
    world.close_signal(ex.LEERPLICHT, opened["id"])
    assert probes("leerplicht") == before


def test_a_signal_match_received_is_no_exchange_that_clears_a_probe(world):
    """What a probe harvests (the operator's signal_match) must not hide the probe."""
    world.signal(ex.GGD)
    before = probes("school")
    opened = world.signal(ex.SCHOOL)
    assert len(world.inbox(ex.SCHOOL)) == 1
    world.close_signal(ex.SCHOOL, opened["id"])
    assert probes("school") == before + 1


def test_a_retraction_notice_received_is_no_exchange_that_clears_a_probe(world):
    """A notice from the gateway (here: the school retracts what it sent before the signal)
    tells of work undone, not done: it must not hide the probe."""
    sent = world.send_absence_report().json["id"]
    before = probes("leerplicht")
    opened = world.signal(ex.LEERPLICHT)
    retracted = world.post(ex.SCHOOL, f"/api/v1/exchanges/{sent}/retract",
                           {"reason": "wrong_child"})
    assert retracted.status_code == 201, retracted.json
    assert [item["message_type"] for item in world.inbox(ex.LEERPLICHT)][-1] == "retraction"
    world.close_signal(ex.LEERPLICHT, opened["id"])
    assert probes("leerplicht") == before + 1


# rule 6: who learned of whom ------------------------------------------------------------------
def test_each_signal_match_is_an_audit_event_naming_who_learned_of_whom(world):
    world.signal(ex.SCHOOL)
    world.signal(ex.GGD)
    to_school = world.inbox(ex.SCHOOL)
    to_ggd = world.inbox(ex.GGD)
    matches = world.audit("signal.match")
    pairs = sorted((e["recipient"], e["sender"]) for e in matches)
    assert pairs == sorted([(ex.SCHOOL, ex.GGD), (ex.GGD, ex.SCHOOL)])
    for event in matches:
        assert event["actor"] == {"org": ex.OPERATOR, "client_id": None, "user": None}
        assert event["decision"] == "allowed"
        assert event["message_type"] == "signal_match"
    by_recipient = {e["recipient"]: e["exchange_id"] for e in matches}
    assert by_recipient == {ex.SCHOOL: to_school[0]["id"], ex.GGD: to_ggd[0]["id"]}
    # the learner received the child under its own pseudonym, not the BSN (rule 2 index)
    with world.db.session() as session:
        rows = session.execute(
            select(AuditEventRow.recipient, AuditEventRow.subject_clear_to,
                   AuditEventRow.subject_pseudonym_to)
            .where(AuditEventRow.action == "signal.match")
        ).all()
    assert sorted(rows) == sorted([(ex.SCHOOL, None, f",{ex.SCHOOL},"),
                                   (ex.GGD, None, f",{ex.GGD},")])


def test_signal_create_is_indexed_for_the_caller_in_the_form_it_named_the_child(world):
    world.signal(ex.SCHOOL)
    pseudonym = world.pseudonymiser.pseudonymise(Bsn(ex.BSN), organisation_domain(ex.GGD))
    world.signal(ex.GGD, subject={"pseudonym": pseudonym})
    with world.db.session() as session:
        rows = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "signal.create")
            .order_by(AuditEventRow.seq)
        ).all()
        named = [(row.subject_clear_to, row.subject_pseudonym_to) for row in rows]
    # the school named the BSN; the GGD named its own pseudonym, which is not the BSN
    assert named == [(f",{ex.SCHOOL},", None), (None, f",{ex.GGD},")]
