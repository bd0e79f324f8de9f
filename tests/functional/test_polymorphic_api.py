"""Polymorphic mode through the Flask test client with real tokens, on SQLite and PostgreSQL.

Partners make their subjects with the issuer's key shares exactly as docs/polymorphic.md says
(``tests.pep_helpers``); the expected pseudonyms are computed from the issuer's factors, not
read back from the gateway. Every refusal is checked for status, code, nothing stored and an
audit record; no BSN appears in any audit record.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from joserfc import jwe
from joserfc.jwk import ECKey
from sqlalchemy import func, select, update

from gateway import create_app
from gateway.audit.models import AuditEventRow
from gateway.config import Settings
from gateway.exchange.models import Message, RoutePolicyRow
from gateway.keys import KeyStore
from gateway.pep.issuing import Participant, issue
from gateway.registry.service import ClientCredentials, OrganisationRegistry
from gateway.storage.database import Database
from pseudonymise.pep import KeyIssuer
from tests import exchange_helpers as ex
from tests import pep_helpers as pep
from tests.oauth_helpers import client_assertion, make_client_key, token_form

TODAY = ex.today()
SCOPES = ["exchange:send", "exchange:receive", "consent:write", "consent:read", "signal:write",
          "audit:read", "reidentify:request"]
# WIJ and leerplicht stay out of polymorphic mode in these tests
POLYMORPHIC = {ex.SCHOOL, ex.GGD, ex.SWV, ex.OPERATOR, ex.GGD_2}


@pytest.fixture(scope="module")
def pep_keys_dir(tmp_path_factory):
    """A key directory of its own: issuing writes into it, and other tests must not see that."""
    directory = tmp_path_factory.mktemp("pep-keys")
    KeyStore(directory, allow_generate=True)
    return directory


@pytest.fixture(scope="module")
def issuer():
    return KeyIssuer.generate()


class Gateway:
    def __init__(self, database_url, keys_dir, issuer: KeyIssuer, issued: bool = True):
        self.settings = Settings(database_url=database_url, keys_dir=keys_dir)
        self.db = Database(database_url)
        self.issuer = issuer
        registry = OrganisationRegistry(self.db, production=False)
        self.keys = {}
        for oin, name, type_ in ex.ORGANISATIONS:
            registry.add_organisation(oin, name, type_, polymorphic=oin in POLYMORPHIC)
            self.keys[oin] = make_client_key()
            credentials = ClientCredentials("private_key_jwt", jwks=self.keys[oin].jwks())
            registry.add_client(oin, f"client-{oin}", credentials, SCOPES)
        if issued:
            participants = [
                Participant(oin, {f"client-{oin}": self.keys[oin].jwks()})
                for oin, _, _ in ex.ORGANISATIONS
                if oin in POLYMORPHIC
            ]
            issue(issuer, participants, keys_dir)
        self.app = create_app(self.settings)
        self.app.config["TESTING"] = True
        self.client = self.app.test_client()
        self.tokens = {}

    def token(self, oin: str) -> str:
        if oin not in self.tokens:
            assertion = client_assertion(
                self.keys[oin], f"client-{oin}", f"{self.settings.issuer}/oauth/token"
            )
            response = self.client.post("/oauth/token", data=token_form(assertion))
            assert response.status_code == 200, response.json
            self.tokens[oin] = response.json["access_token"]
        return self.tokens[oin]

    def post(self, oin, path, body, **headers):
        headers["Authorization"] = f"Bearer {self.token(oin)}"
        return self.client.post(path, json=body, headers=headers)

    def get(self, oin, path):
        return self.client.get(path, headers={"Authorization": f"Bearer {self.token(oin)}"})

    def send(self, sender, recipient, message_type, payload, subject):
        body = {"message_type": message_type, "recipient": recipient, "subject": subject,
                "payload": payload}
        return self.post(sender, "/api/v1/exchanges", body,
                         **{"Idempotency-Key": uuid.uuid4().hex})

    def subject(self, sender=ex.SCHOOL, bsn=ex.BSN) -> dict:
        return pep.polymorphic_subject(self.issuer, bsn, sender)

    def consent(self, bsn=ex.BSN, recorder=ex.SCHOOL, parties=(ex.SCHOOL, "ggd")):
        body = {
            "subject": pep.polymorphic_subject(self.issuer, bsn, recorder),
            "date_of_birth": ex.born(TODAY, 10),
            "purpose": "mazl",
            "parties": list(parties),
            "granted_by": [{"role": "parent"}],
            "valid_from": (TODAY - timedelta(days=1)).isoformat(),
            "valid_until": (TODAY + timedelta(days=200)).isoformat(),
            "evidence": {"method": "written", "reference": "formulier 7"},
        }
        response = self.post(recorder, "/api/v1/consents", body)
        assert response.status_code == 201, response.json
        return response.json

    def referral(self, bsn=ex.BSN, recipient=ex.GGD):
        return self.send(ex.SCHOOL, recipient, "sickness_absence_referral",
                         ex.sickness_absence_referral(TODAY), self.subject(bsn=bsn))

    def inbox(self, oin) -> list[dict]:
        response = self.get(oin, "/api/v1/inbox")
        assert response.status_code == 200, response.json
        return response.json["items"]

    def audit(self, action=None) -> list[dict]:
        """Stored events as hashed, with the operator-only ``subject_ref`` index beside."""
        with self.db.session() as session:
            query = select(AuditEventRow.canonical, AuditEventRow.subject_ref).order_by(
                AuditEventRow.seq)
            if action:
                query = query.where(AuditEventRow.action == action)
            return [json.loads(canonical) | {"subject_ref": ref}
                    for canonical, ref in session.execute(query)]

    def messages(self) -> int:
        with self.db.session() as session:
            return session.scalar(select(func.count()).select_from(Message))

    def close(self):
        self.app.extensions["gateway"].db.dispose()
        self.db.dispose()


@pytest.fixture
def gw(database_url, pep_keys_dir, issuer):
    gateway = Gateway(database_url, pep_keys_dir, issuer)
    yield gateway
    gateway.close()


def assert_problem(response, status, code, path=None):
    assert response.status_code == status, response.json
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json["code"] == code
    if path:
        assert path in response.json["errors"]


def assert_no_bsn_in_audit(gw, *bsns):
    text = json.dumps(gw.audit())
    for bsn in bsns:
        assert bsn not in text


# the keys ----------------------------------------------------------------------------------
def test_public_key_is_the_issuers(gw, issuer):
    response = gw.client.get("/api/v1/pep/public-key")
    assert response.status_code == 200
    body = response.json
    assert body["group"] == "ristretto255"
    assert pep.encode_base64(issuer.master_public_key) == body["master_public_key"]
    assert pep.encode_base64(issuer.link_public_key) == body["link_public_key"]


def test_key_share_opens_only_with_the_clients_own_key_and_is_audited(gw, issuer):
    response = gw.get(ex.GGD, "/api/v1/pep/key-share")
    assert response.status_code == 200, response.json
    assert response.json["organisation"] == ex.GGD
    private = gw.keys[ex.GGD].key.as_dict(private=True)
    private = ECKey.import_key({k: v for k, v in private.items() if k not in ("use", "alg")})
    share = json.loads(jwe.decrypt_compact(response.json["key_share"], private).plaintext)
    expected = issuer.key_share(f"pseudonym:{ex.GGD}")
    assert pep.decode_base64(share["secret_key"], 32) == expected.secret_key
    assert pep.decode_base64(share["link_secret"], 32) == issuer.secrets()["link"]
    other = gw.keys[ex.SCHOOL].key.as_dict(private=True)
    other = ECKey.import_key({k: v for k, v in other.items() if k not in ("use", "alg")})
    with pytest.raises(Exception):  # noqa: B017 - any failure to open is the point
        jwe.decrypt_compact(response.json["key_share"], other)
    [event] = gw.audit("pep.key_share")
    assert (event["decision"], event["actor"]["org"]) == ("allowed", ex.GGD)


def test_key_share_not_issued_is_404_and_audited(gw):
    assert_problem(gw.get(ex.WIJ, "/api/v1/pep/key-share"), 404, "key_share_not_issued")
    [event] = gw.audit("pep.key_share")
    assert (event["decision"], event["reason"]) == ("denied", "key_share_not_issued")


def test_without_issued_keys_polymorphic_mode_is_unavailable(database_url, tmp_path, issuer):
    KeyStore(tmp_path, allow_generate=True)
    gateway = Gateway(database_url, tmp_path, issuer, issued=False)
    try:
        assert_problem(gateway.client.get("/api/v1/pep/public-key"), 404,
                       "polymorphic_unavailable")
        response = gateway.referral()
        assert_problem(response, 422, "polymorphic_unavailable")
        assert gateway.messages() == 0
        [event] = gateway.audit("exchange.send")
        assert (event["decision"], event["reason"]) == ("denied", "polymorphic_unavailable")
    finally:
        gateway.close()


# sending and receiving ---------------------------------------------------------------------
def test_recipient_gets_its_own_stable_pseudonym_that_only_it_can_open(gw, issuer):
    gw.consent()
    first, second = gw.referral(), gw.referral()
    assert first.status_code == second.status_code == 202, first.json
    items = gw.inbox(ex.GGD)
    assert [item["id"] for item in items] == [first.json["id"], second.json["id"]]
    expected = pep.expected_pseudonym(issuer, ex.BSN, ex.GGD)
    for item in items:
        assert set(item["subject"]) == {"encrypted_pseudonym"}
        assert pep.open_pseudonym(issuer, item["subject"]["encrypted_pseudonym"], ex.GGD) == expected
    # rerandomised on the way: the two ciphertexts differ although the pseudonym is the same
    assert items[0]["subject"] != items[1]["subject"]
    assert expected != pep.expected_pseudonym(issuer, ex.BSN, ex.GGD_2)
    with pytest.raises(Exception):  # noqa: B017 - WrongKeyError: another organisation's key
        pep.open_pseudonym(issuer, items[0]["subject"]["encrypted_pseudonym"], ex.GGD_2)
    events = gw.audit("exchange.send")
    assert {e["subject_ref"] for e in events} == {events[0]["subject_ref"]}
    assert events[0]["subject_ref"] is not None
    assert events[0]["legal_basis"]["type"] == "consent"
    assert_no_bsn_in_audit(gw, ex.BSN)


def test_reply_by_own_pseudonym_reaches_the_school_under_its_pseudonym(gw, issuer):
    gw.consent()
    sent = gw.referral()
    assert sent.status_code == 202, sent.json
    [received] = gw.inbox(ex.GGD)
    pseudonym = pep.open_pseudonym(issuer, received["subject"]["encrypted_pseudonym"], ex.GGD)
    subject = pep.reply_subject(issuer, pseudonym, received["id"],
                                received["subject"]["encrypted_pseudonym"], ex.GGD)
    payload = dict(ex.jgz_advice(TODAY), in_reply_to=received["id"])
    reply = gw.send(ex.GGD, ex.SCHOOL, "jgz_advice", payload, subject)
    assert reply.status_code == 202, reply.json
    [item] = gw.inbox(ex.SCHOOL)
    assert item["payload"]["in_reply_to"] == received["id"]
    opened = pep.open_pseudonym(issuer, item["subject"]["encrypted_pseudonym"], ex.SCHOOL)
    assert opened == pep.expected_pseudonym(issuer, ex.BSN, ex.SCHOOL)
    send_events = gw.audit("exchange.send")
    assert send_events[0]["subject_ref"] == send_events[1]["subject_ref"]
    assert send_events[1]["consent_id"] == send_events[0]["consent_id"]
    assert_no_bsn_in_audit(gw, ex.BSN)


def test_reply_about_another_child_is_refused(gw, issuer):
    gw.consent()
    gw.consent(bsn=ex.OTHER_BSN)
    assert gw.referral().status_code == 202
    assert gw.referral(bsn=ex.OTHER_BSN).status_code == 202
    first, other = gw.inbox(ex.GGD)
    other_pseudonym = pep.open_pseudonym(issuer, other["subject"]["encrypted_pseudonym"], ex.GGD)
    # proves equality against the first exchange while encrypting the other child: cannot hold
    forged = pep.reply_subject(issuer, other_pseudonym, first["id"],
                               first["subject"]["encrypted_pseudonym"], ex.GGD)
    before = gw.messages()
    response = gw.send(ex.GGD, ex.SCHOOL, "jgz_advice", ex.jgz_advice(TODAY), forged)
    assert_problem(response, 422, "invalid_polymorphic", "subject.encrypted_pseudonym")
    assert gw.messages() == before
    event = gw.audit("exchange.send")[-1]
    assert (event["decision"], event["reason"]) == ("denied", "invalid_polymorphic")


def test_reply_naming_an_exchange_not_received_is_unknown_reference(gw, issuer):
    gw.consent()
    assert gw.referral().status_code == 202
    [received] = gw.inbox(ex.GGD)
    pseudonym = pep.open_pseudonym(issuer, received["subject"]["encrypted_pseudonym"], ex.GGD)
    subject = pep.reply_subject(issuer, pseudonym, received["id"],
                                received["subject"]["encrypted_pseudonym"], ex.GGD)
    # another GGD names an exchange that it did not receive
    response = gw.send(ex.GGD_2, ex.SCHOOL, "jgz_advice", ex.jgz_advice(TODAY), subject)
    assert_problem(response, 422, "unknown_reference", "subject.received_in")


def test_proof_for_another_child_or_sender_is_refused_and_nothing_stored(gw, issuer):
    gw.consent()
    honest = gw.subject()
    other = gw.subject(bsn=ex.OTHER_BSN)
    raw_honest = pep.decode_base64(honest["polymorphic"], 256)
    raw_other = pep.decode_base64(other["polymorphic"], 256)
    # the ciphertext of one child with the tag and proof of another
    swapped = {"polymorphic": pep.encode_base64(raw_honest[:96] + raw_other[96:])}
    cases = [
        swapped,
        {"polymorphic": pep.tamper(honest["polymorphic"], 200)},
        pep.polymorphic_subject(issuer, ex.BSN, ex.GGD),  # made for another sender
    ]
    for subject in cases:
        response = gw.send(ex.SCHOOL, ex.GGD, "sickness_absence_referral",
                           ex.sickness_absence_referral(TODAY), subject)
        assert_problem(response, 422, "invalid_polymorphic", "subject.polymorphic")
    assert gw.messages() == 0
    events = gw.audit("exchange.send")
    assert [e["reason"] for e in events] == ["invalid_polymorphic"] * 3
    assert all(e["subject_ref"] is None for e in events)


def test_bsn_route_needs_the_bsn(gw):
    response = gw.send(ex.SCHOOL, ex.LEERPLICHT, "absence_report", ex.absence_report(TODAY),
                       gw.subject())
    assert_problem(response, 422, "bsn_required", "subject")
    assert gw.messages() == 0
    event = gw.audit("exchange.send")[-1]
    assert (event["decision"], event["reason"]) == ("denied", "bsn_required")
    assert event["subject_ref"] is not None  # a valid polymorphic subject, so it is named


def test_recipient_outside_polymorphic_mode_is_refused(gw):
    response = gw.send(ex.SCHOOL, ex.WIJ, "support_request", ex.support_request(TODAY),
                       gw.subject())
    assert_problem(response, 422, "recipient_not_polymorphic", "recipient")
    assert gw.messages() == 0


def test_sender_outside_polymorphic_mode_is_refused(gw, issuer):
    response = gw.send(ex.WIJ, ex.SCHOOL, "support_feedback", ex.support_feedback(TODAY),
                       pep.polymorphic_subject(issuer, ex.BSN, ex.WIJ))
    assert_problem(response, 403, "polymorphic_not_enabled")
    assert gw.messages() == 0


def test_route_policy_can_forbid_polymorphic_mode(gw):
    gw.consent()
    with gw.db.session() as session:
        session.execute(
            update(RoutePolicyRow)
            .where(RoutePolicyRow.message_type == "sickness_absence_referral")
            .values(polymorphic=False)
        )
    try:
        assert_problem(gw.referral(), 422, "polymorphic_not_allowed", "subject")
        assert gw.messages() == 0
    finally:
        with gw.db.session() as session:
            session.execute(
                update(RoutePolicyRow)
                .where(RoutePolicyRow.message_type == "sickness_absence_referral")
                .values(polymorphic=True)
            )


def test_consent_must_cover_the_polymorphic_child(gw):
    gw.consent(bsn=ex.OTHER_BSN)
    assert_problem(gw.referral(), 403, "consent_missing")
    assert gw.messages() == 0


# consents, signals, audit, re-identification -----------------------------------------------
def test_consent_search_by_polymorphic_subject(gw, issuer):
    recorded = gw.consent()
    gw.consent(bsn=ex.OTHER_BSN)
    response = gw.post(ex.SCHOOL, "/api/v1/consents/search",
                       {"subject": pep.polymorphic_subject(issuer, ex.BSN, ex.SCHOOL)})
    assert response.status_code == 200, response.json
    assert [c["id"] for c in response.json["items"]] == [recorded["id"]]
    # the GGD is a party by type and never had the child from the gateway: the polymorphic
    # form of a BSN is a BSN search, and finds nothing for it (API.md section 13 rule 2)
    ggd = gw.post(ex.GGD, "/api/v1/consents/search",
                  {"subject": pep.polymorphic_subject(issuer, ex.BSN, ex.GGD)})
    assert ggd.status_code == 200 and ggd.json["items"] == []
    assert_no_bsn_in_audit(gw, ex.BSN, ex.OTHER_BSN)


def test_polymorphic_signals_match_and_each_side_gets_its_own_pseudonym(gw, issuer):
    for oin in (ex.SCHOOL, ex.GGD):
        body = {"subject": pep.polymorphic_subject(issuer, ex.BSN, oin), "category": "attendance",
                "contact": ex.CONTACT}
        response = gw.post(oin, "/api/v1/signals", body)
        assert response.status_code == 201, response.json
    for oin in (ex.SCHOOL, ex.GGD):
        [item] = gw.inbox(oin)
        assert item["message_type"] == "signal_match"
        opened = pep.open_pseudonym(issuer, item["subject"]["encrypted_pseudonym"], oin)
        assert opened == pep.expected_pseudonym(issuer, ex.BSN, oin)
    assert_no_bsn_in_audit(gw, ex.BSN)


def test_signal_from_an_organisation_outside_polymorphic_mode_is_refused(gw, issuer):
    body = {"subject": pep.polymorphic_subject(issuer, ex.BSN, ex.WIJ), "category": "attendance",
            "contact": ex.CONTACT}
    assert_problem(gw.post(ex.WIJ, "/api/v1/signals", body), 403, "polymorphic_not_enabled")


def test_subject_report_by_polymorphic_subject(gw, issuer):
    gw.consent()
    assert gw.referral().status_code == 202
    assert gw.referral(bsn=ex.OTHER_BSN).status_code == 403  # no consent for the other child
    report = gw.post(ex.OPERATOR, "/api/v1/audit/subject-report",
                     {"subject": pep.polymorphic_subject(issuer, ex.BSN, ex.OPERATOR)})
    assert report.status_code == 200, report.json
    actions = [(e["action"], e["decision"]) for e in report.json["items"]]
    assert ("consent.record", "allowed") in actions
    assert ("exchange.send", "allowed") in actions
    assert ("exchange.send", "denied") not in actions  # that was the other child


def test_polymorphic_pseudonym_cannot_be_reidentified(gw, issuer):
    pseudonym = pep.expected_pseudonym(issuer, ex.BSN, ex.GGD)
    response = gw.post(ex.GGD, "/api/v1/reidentifications",
                       {"pseudonym": pseudonym, "reason": "zorgvraag",
                        "legal_basis": "Wet publieke gezondheid"})
    assert_problem(response, 422, "polymorphic_not_reversible", "pseudonym")


def test_retention_purge_erases_the_tag_and_the_delivered_ciphertext(gw, issuer):
    from datetime import UTC, datetime

    from gateway.audit.log import AuditLog
    from gateway.exchange.retention import purge_expired

    gw.consent()
    assert gw.referral().status_code == 202
    [received] = gw.inbox(ex.GGD)
    assert gw.post(ex.GGD, f"/api/v1/inbox/{received['id']}/ack", {}).status_code == 200
    with gw.db.session() as session:
        kept = session.execute(select(Message.pep_link, Message.pep_delivered)).one()
    assert kept.pep_link and kept.pep_delivered  # an acknowledged message can be replied to
    purge_expired(gw.db, AuditLog(), datetime(2100, 1, 1, tzinfo=UTC))
    with gw.db.session() as session:
        erased = session.execute(select(Message.pep_link, Message.pep_delivered)).one()
    assert (erased.pep_link, erased.pep_delivered) == (None, None)
    pseudonym = pep.open_pseudonym(issuer, received["subject"]["encrypted_pseudonym"], ex.GGD)
    subject = pep.reply_subject(issuer, pseudonym, received["id"],
                                received["subject"]["encrypted_pseudonym"], ex.GGD)
    response = gw.send(ex.GGD, ex.SCHOOL, "jgz_advice", ex.jgz_advice(TODAY), subject)
    assert_problem(response, 422, "unknown_reference", "subject.received_in")


def test_a_refused_proof_is_checked_once_not_again_for_the_audit_record(gw, monkeypatch):
    """Checking a proof costs a millisecond; a request with a bad one must not cost two."""
    from gateway.pep.subjects import PolymorphicSubjects

    calls = []
    original = PolymorphicSubjects.read_polymorphic

    def counting(self, value, sender_oin):
        calls.append(sender_oin)
        return original(self, value, sender_oin)

    monkeypatch.setattr(PolymorphicSubjects, "read_polymorphic", counting)
    response = gw.send(ex.SCHOOL, ex.GGD, "sickness_absence_referral",
                       ex.sickness_absence_referral(TODAY),
                       {"polymorphic": pep.tamper(gw.subject()["polymorphic"], 200)})
    assert_problem(response, 422, "invalid_polymorphic")
    assert calls == [ex.SCHOOL]
    # refused before step 10 (route), the proof is checked once to name the child
    calls.clear()
    response = gw.send(ex.SCHOOL, ex.GGD, "jgz_advice", ex.jgz_advice(TODAY), gw.subject())
    assert_problem(response, 403, "route_not_allowed")
    assert calls == [ex.SCHOOL]
    assert gw.audit("exchange.send")[-1]["subject_ref"] is not None
