"""``/api/v1/signals`` through the Flask test client with real tokens, on SQLite and PostgreSQL.

Matching by the match-domain pseudonym: each pair of organisations with open signals on the
same child is told once, each side by one ``signal_match`` in its inbox (from the operator,
under its own pseudonym, naming the other party and its contact, never the category).
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from gateway import create_app
from gateway.audit.models import AuditEventRow
from gateway.config import Settings
from gateway.exchange.models import Message
from gateway.keys import KeyStore
from gateway.registry.service import ClientCredentials, OrganisationRegistry
from gateway.signals.models import SignalMatchRow, SignalRow
from gateway.storage.database import Database
from pseudonymise import Bsn, DomainPseudonymiser, organisation_domain
from tests import exchange_helpers as ex
from tests.oauth_helpers import client_assertion, make_client_key, token_form

SCOPES = ["exchange:send", "exchange:receive", "signal:write"]
CONTACTS = {
    ex.SCHOOL: {"name": "J. de Vries", "email": "j.devries@regenboog.example.nl"},
    ex.GGD: {"name": "Jeugdarts K. Bakker", "email": "k.bakker@ggd.example.nl",
             "phone": "050 367 4000"},
    ex.WIJ: {"name": "WIJ-team Oost", "email": "oost@wij.example.nl"},
    ex.LEERPLICHT: {"name": "A. Smit", "email": "a.smit@leerplicht.example.nl"},
}
CATEGORIES = {ex.SCHOOL: "attendance", ex.GGD: "wellbeing", ex.WIJ: "family_situation",
              ex.LEERPLICHT: "safety"}


class Partners:
    """A gateway app with the demo organisations (optionally without the operator)."""

    def __init__(self, database_url: str, keys_dir, with_operator: bool = True):
        self.settings = Settings(database_url=database_url, keys_dir=keys_dir)
        self.db = Database(database_url)
        registry = OrganisationRegistry(self.db, production=False)
        self.keys = {}
        for oin, name, type_ in ex.ORGANISATIONS:
            if type_ == "operator" and not with_operator:
                continue
            registry.add_organisation(oin, name, type_)
            self.keys[oin] = make_client_key()
            scopes = ["audit:read"] if type_ == "operator" else SCOPES
            credentials = ClientCredentials("private_key_jwt", jwks=self.keys[oin].jwks())
            registry.add_client(oin, f"client-{oin}", credentials, scopes)
        self.app = create_app(self.settings)
        self.app.config["TESTING"] = True
        self.client = self.app.test_client()
        self.tokens = {}
        self.pseudonymiser = DomainPseudonymiser(KeyStore(keys_dir, allow_generate=False).keyring)

    def token(self, oin: str, scope: str | None = None) -> str:
        if (oin, scope) not in self.tokens:
            assertion = client_assertion(
                self.keys[oin], f"client-{oin}", f"{self.settings.issuer}/oauth/token"
            )
            response = self.client.post("/oauth/token", data=token_form(assertion, scope))
            assert response.status_code == 200, response.json
            self.tokens[(oin, scope)] = response.json["access_token"]
        return self.tokens[(oin, scope)]

    def post(self, oin, path, body=None, scope=None, **headers):
        headers["Authorization"] = f"Bearer {self.token(oin, scope)}"
        if isinstance(body, (bytes, str)):
            return self.client.post(path, data=body, headers=headers)
        return self.client.post(path, json=body, headers=headers)

    def signal(self, oin, bsn=ex.BSN, subject=None):
        body = {"subject": subject or {"bsn": bsn}, "category": CATEGORIES[oin],
                "contact": CONTACTS[oin]}
        response = self.post(oin, "/api/v1/signals", body)
        assert response.status_code == 201, response.json
        return response.json

    def close_signal(self, oin, signal_id):
        return self.post(oin, f"/api/v1/signals/{signal_id}/close")

    def inbox(self, oin) -> list[dict]:
        response = self.client.get("/api/v1/inbox?limit=500",
                                   headers={"Authorization": f"Bearer {self.token(oin)}"})
        assert response.status_code == 200, response.json
        for item in response.json["items"]:
            self.post(oin, f"/api/v1/inbox/{item['id']}/ack")
        return response.json["items"]

    def audit(self, action=None) -> list[dict]:
        """The events as the operator's readers see them: the hashed event plus the child's
        audit pseudonym, which is kept beside it, not in it (API.md section 13 rule 1)."""
        with self.db.session() as session:
            query = select(AuditEventRow.canonical, AuditEventRow.subject_ref).order_by(
                AuditEventRow.seq
            )
            if action:
                query = query.where(AuditEventRow.action == action)
            return [
                dict(json.loads(canonical), subject_ref=subject_ref)
                for canonical, subject_ref in session.execute(query)
            ]

    def count(self, model) -> int:
        with self.db.session() as session:
            return session.scalar(select(func.count()).select_from(model))

    def close(self):
        self.app.extensions["gateway"].db.dispose()
        self.db.dispose()


@pytest.fixture
def gw(database_url, keys_dir):
    partners = Partners(database_url, keys_dir)
    yield partners
    partners.close()


def assert_problem(response, status, code):
    assert response.status_code == status, response.json
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json["code"] == code
    assert ex.BSN not in response.get_data(as_text=True)


def others(items) -> list[str]:
    return sorted(item["payload"]["other_party"]["oin"] for item in items)


def test_create_stores_the_match_pseudonym_and_is_audited(gw):
    answer = gw.signal(ex.SCHOOL)
    assert set(answer) == {"id", "status", "created_at"} and answer["status"] == "open"
    with gw.db.session() as session:
        row = session.scalars(select(SignalRow)).one()
    assert row.match_ref == gw.pseudonymiser.pseudonymise(Bsn(ex.BSN), "match")
    assert (row.id, row.category, row.status) == (answer["id"], "attendance", "open")
    [event] = gw.audit("signal.create")
    assert event["decision"] == "allowed" and event["actor"]["org"] == ex.SCHOOL
    assert event["subject_ref"] == gw.pseudonymiser.pseudonymise(Bsn(ex.BSN), "audit")
    assert gw.inbox(ex.SCHOOL) == []


def test_two_organisations_each_get_one_signal_match(gw):
    school = gw.signal(ex.SCHOOL)
    ggd = gw.signal(ex.GGD)
    [to_school] = gw.inbox(ex.SCHOOL)
    [to_ggd] = gw.inbox(ex.GGD)
    assert to_school["message_type"] == "signal_match"
    assert to_school["sender"] == {"oin": ex.OPERATOR, "name": "Gateway Beheer",
                                   "type": "operator"}
    assert to_school["subject"] == {"pseudonym": gw.pseudonymiser.pseudonymise(
        Bsn(ex.BSN), organisation_domain(ex.SCHOOL))}
    assert to_ggd["subject"] == {"pseudonym": gw.pseudonymiser.pseudonymise(
        Bsn(ex.BSN), organisation_domain(ex.GGD))}
    assert to_school["purpose"] == "signal_matching"
    assert to_school["legal_basis"] == {"type": "legal_obligation",
                                        "citation": "Jeugdwet par. 7.1.1 (verwijsindex)"}
    assert to_school["payload"]["signal_id"] == school["id"]
    assert to_school["payload"]["other_party"] == {"oin": ex.GGD, "name": "GGD Groningen",
                                                   "contact": CONTACTS[ex.GGD]}
    assert to_ggd["payload"]["signal_id"] == ggd["id"]
    assert to_ggd["payload"]["other_party"] == {"oin": ex.SCHOOL, "name": "OBS De Regenboog",
                                                "contact": CONTACTS[ex.SCHOOL]}
    assert to_school["payload"]["matched_at"] == to_ggd["payload"]["matched_at"]
    for item in (to_school, to_ggd):
        text = json.dumps(item)
        assert "category" not in text and ex.BSN not in text
        assert not any(category in text for category in CATEGORIES.values())
    matches = gw.audit("signal.match")
    # each disclosure names who learned (recipient) of whom (sender): API.md section 13 rule 6
    assert sorted((e["recipient"], e["sender"]) for e in matches) == sorted(
        [(ex.SCHOOL, ex.GGD), (ex.GGD, ex.SCHOOL)]
    )
    for event in matches:
        assert event["actor"] == {"org": ex.OPERATOR, "client_id": None, "user": None}
        assert event["message_type"] == "signal_match"
        assert event["subject_ref"] == gw.pseudonymiser.pseudonymise(Bsn(ex.BSN), "audit")
    assert {e["exchange_id"] for e in matches} == {to_school["id"], to_ggd["id"]}


def test_three_organisations_make_three_pairs_each_told_once(gw):
    for oin in (ex.SCHOOL, ex.GGD, ex.WIJ):
        gw.signal(oin)
    assert others(gw.inbox(ex.SCHOOL)) == sorted([ex.GGD, ex.WIJ])
    assert others(gw.inbox(ex.GGD)) == sorted([ex.SCHOOL, ex.WIJ])
    assert others(gw.inbox(ex.WIJ)) == sorted([ex.SCHOOL, ex.GGD])
    assert gw.count(SignalMatchRow) == 3 and gw.count(Message) == 6
    assert len(gw.audit("signal.match")) == 6


def test_no_second_match_for_the_same_pair_while_both_are_open(gw):
    gw.signal(ex.SCHOOL)
    gw.signal(ex.SCHOOL)  # the same organisation twice: nobody to match
    gw.signal(ex.GGD)
    gw.signal(ex.GGD)
    gw.signal(ex.SCHOOL)
    assert others(gw.inbox(ex.SCHOOL)) == [ex.GGD]
    assert others(gw.inbox(ex.GGD)) == [ex.SCHOOL]
    assert gw.count(SignalMatchRow) == 1


def test_other_children_do_not_match(gw):
    gw.signal(ex.SCHOOL)
    gw.signal(ex.GGD, bsn=ex.OTHER_BSN)
    assert gw.inbox(ex.SCHOOL) == [] and gw.inbox(ex.GGD) == []


def test_a_pseudonym_of_ones_own_organisation_names_the_same_child(gw):
    gw.signal(ex.SCHOOL)
    own = gw.pseudonymiser.pseudonymise(Bsn(ex.BSN), organisation_domain(ex.GGD))
    gw.signal(ex.GGD, subject={"pseudonym": own})
    assert others(gw.inbox(ex.SCHOOL)) == [ex.GGD]


def test_closed_signals_match_no_more_and_a_new_signal_matches_afresh(gw):
    school = gw.signal(ex.SCHOOL)
    gw.signal(ex.GGD)
    gw.inbox(ex.SCHOOL), gw.inbox(ex.GGD)
    closed = gw.close_signal(ex.SCHOOL, school["id"])
    assert closed.status_code == 200 and closed.json == {"id": school["id"], "status": "closed"}
    assert gw.close_signal(ex.SCHOOL, school["id"]).json == closed.json
    gw.signal(ex.WIJ)
    assert gw.inbox(ex.SCHOOL) == [] and others(gw.inbox(ex.WIJ)) == [ex.GGD]
    assert others(gw.inbox(ex.GGD)) == [ex.WIJ]
    again = gw.signal(ex.SCHOOL)  # the school's matches ended when it closed: match afresh
    to_school = gw.inbox(ex.SCHOOL)
    assert others(to_school) == sorted([ex.GGD, ex.WIJ])
    assert {item["payload"]["signal_id"] for item in to_school} == {again["id"]}
    assert others(gw.inbox(ex.GGD)) == [ex.SCHOOL] and others(gw.inbox(ex.WIJ)) == [ex.SCHOOL]
    closes = gw.audit("signal.close")
    assert len(closes) == 1 and closes[0]["subject_ref"] == gw.pseudonymiser.pseudonymise(
        Bsn(ex.BSN), "audit")


def test_closing_another_organisations_signal_is_not_found(gw):
    school = gw.signal(ex.SCHOOL)
    assert_problem(gw.close_signal(ex.GGD, school["id"]), 404, "not_found")
    assert_problem(gw.close_signal(ex.GGD, "no-such-signal"), 404, "not_found")
    with gw.db.session() as session:
        assert session.scalars(select(SignalRow.status)).one() == "open"
    assert [(e["decision"], e["reason"]) for e in gw.audit("signal.close")] == [
        ("denied", "not_found")] * 2


def test_refusals_store_nothing_and_are_audited(gw):
    other = gw.pseudonymiser.pseudonymise(Bsn(ex.BSN), organisation_domain(ex.SCHOOL))
    unknown = gw.post(ex.GGD, "/api/v1/signals", {
        "subject": {"pseudonym": other}, "category": "wellbeing", "contact": CONTACTS[ex.GGD]})
    assert_problem(unknown, 422, "unknown_pseudonym")
    assert unknown.json["errors"] == {"subject.pseudonym": [
        "Unknown pseudonym for your organisation."]}
    invalid = gw.post(ex.GGD, "/api/v1/signals", {
        "subject": {"bsn": ex.BSN}, "category": "diagnosis", "contact": CONTACTS[ex.GGD]})
    assert_problem(invalid, 422, "validation_failed")
    assert list(invalid.json["errors"]) == ["category"]
    zero_sum = gw.post(ex.GGD, "/api/v1/signals", {
        "subject": {"bsn": "100000009"}, "category": "wellbeing", "contact": CONTACTS[ex.GGD]})
    assert_problem(zero_sum, 422, "validation_failed")
    assert zero_sum.json["errors"] == {"subject.bsn": ["is not a valid BSN"]}
    scope = gw.post(ex.GGD, "/api/v1/signals", {"subject": {"bsn": ex.BSN}},
                    scope="exchange:receive")
    assert_problem(scope, 403, "insufficient_scope")
    media = gw.post(ex.GGD, "/api/v1/signals", "x", **{"Content-Type": "text/plain"})
    assert_problem(media, 415, "unsupported_media_type")
    assert gw.count(SignalRow) == 0
    events = gw.audit("signal.create")
    assert [(e["decision"], e["reason"]) for e in events] == [
        ("denied", "unknown_pseudonym"), ("denied", "validation_failed"),
        ("denied", "validation_failed"), ("denied", "insufficient_scope"), ("denied", "unsupported_media_type")]
    assert events[0]["subject_ref"] is None  # another organisation's pseudonym names nobody
    assert events[1]["subject_ref"] == gw.pseudonymiser.pseudonymise(Bsn(ex.BSN), "audit")
    assert ex.BSN not in json.dumps(events)


def test_without_an_operator_the_match_is_recorded_but_no_message_is_sent(database_url, keys_dir):
    gw = Partners(database_url, keys_dir, with_operator=False)
    try:
        gw.signal(ex.SCHOOL)
        gw.signal(ex.GGD)
        assert gw.inbox(ex.SCHOOL) == [] and gw.inbox(ex.GGD) == []
        with gw.db.session() as session:
            match = session.scalars(select(SignalMatchRow)).one()
        assert match.first_message_id is None and match.ended_at is None
        gw.signal(ex.SCHOOL)  # the pair stays matched: no duplicate once an operator exists
        assert gw.count(SignalMatchRow) == 1
    finally:
        gw.close()
