"""``/api/v1/consents`` through the Flask test client with real tokens, on SQLite and PostgreSQL.

What is stored (only the consent-domain pseudonym; the date of birth sealed), the receipt
verified with the key store's public key, visibility, search paging, and every refusal with
its status, code, nothing stored, and an audit record without the BSN.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from gateway import create_app
from gateway.audit.models import AuditEventRow
from gateway.clock import local_date
from gateway.config import Settings
from gateway.consents.models import ConsentRow, ConsentStatusRow
from gateway.keys import KeyStore
from gateway.registry.service import ClientCredentials, OrganisationRegistry
from gateway.sealing import CONSENT_DETAILS, Sealer
from gateway.storage.database import Database
from pseudonymise import Bsn, DomainPseudonymiser
from tests import exchange_helpers as ex
from tests.oauth_helpers import client_assertion, make_client_key, token_form

TODAY = local_date(datetime.now(UTC))  # the contract's today: Europe/Amsterdam
SCOPES = ["exchange:send", "exchange:receive", "consent:write", "consent:read", "signal:write"]


class Partners:
    """A gateway app with the demo organisations of ``tests.exchange_helpers``, one client
    each (private_key_jwt), and tokens per (organisation, scope)."""

    def __init__(self, database_url: str, keys_dir):
        self.settings = Settings(database_url=database_url, keys_dir=keys_dir)
        self.db = Database(database_url)
        registry = OrganisationRegistry(self.db, production=False)
        self.keys = {}
        for oin, name, type_ in ex.ORGANISATIONS:
            registry.add_organisation(oin, name, type_)
            self.keys[oin] = make_client_key()
            scopes = ["audit:read"] if type_ == "operator" else SCOPES
            credentials = ClientCredentials("private_key_jwt", jwks=self.keys[oin].jwks())
            registry.add_client(oin, f"client-{oin}", credentials, scopes)
        self.app = create_app(self.settings)
        self.app.config["TESTING"] = True
        self.client = self.app.test_client()
        self.tokens = {}
        self.keystore = KeyStore(keys_dir, allow_generate=False)
        self.pseudonymiser = DomainPseudonymiser(self.keystore.keyring)

    def token(self, oin: str, scope: str | None = None) -> str:
        if (oin, scope) not in self.tokens:
            assertion = client_assertion(
                self.keys[oin], f"client-{oin}", f"{self.settings.issuer}/oauth/token"
            )
            response = self.client.post("/oauth/token", data=token_form(assertion, scope))
            assert response.status_code == 200, response.json
            self.tokens[(oin, scope)] = response.json["access_token"]
        return self.tokens[(oin, scope)]

    def post(self, oin, path, body, scope=None, **headers):
        headers["Authorization"] = f"Bearer {self.token(oin, scope)}"
        if isinstance(body, (bytes, str)):
            return self.client.post(path, data=body, headers=headers)
        return self.client.post(path, json=body, headers=headers)

    def get(self, oin, path, scope=None):
        return self.client.get(path, headers={"Authorization": f"Bearer {self.token(oin, scope)}"})

    def record(self, oin=ex.SCHOOL, **changes):
        return self.post(oin, "/api/v1/consents", consent_body(**changes))

    def audit(self, action=None) -> list[dict]:
        """The events as the operator's readers see them: the hashed event plus the child's
        audit pseudonym and the naming index, kept beside it (API.md section 13)."""
        with self.db.session() as session:
            query = select(
                AuditEventRow.canonical,
                AuditEventRow.subject_ref,
                AuditEventRow.subject_clear_to,
                AuditEventRow.subject_pseudonym_to,
            ).order_by(AuditEventRow.seq)
            if action:
                query = query.where(AuditEventRow.action == action)
            return [
                dict(json.loads(canonical), subject_ref=subject_ref, clear_to=clear_to,
                     pseudonym_to=pseudonym_to)
                for canonical, subject_ref, clear_to, pseudonym_to in session.execute(query)
            ]

    def count(self, model) -> int:
        with self.db.session() as session:
            return session.scalar(select(func.count()).select_from(model))

    def close(self):
        self.app.extensions["gateway"].db.dispose()
        self.db.dispose()


def consent_body(bsn=ex.BSN, years=9, roles=("parent",), purpose="mazl",
                 parties=(ex.SCHOOL, "ggd"), start=-30, end=180) -> dict:
    return {
        "subject": {"bsn": bsn},
        "date_of_birth": ex.born(TODAY, years),
        "purpose": purpose,
        "parties": list(parties),
        "granted_by": [{"role": role} for role in roles],
        "valid_from": (TODAY + timedelta(days=start)).isoformat(),
        "valid_until": (TODAY + timedelta(days=end)).isoformat(),
        "evidence": {"method": "written", "reference": "formulier 2026-17"},
    }


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


def test_record_answers_201_with_a_receipt_signed_by_the_gateway_key(gw):
    response = gw.record()
    assert response.status_code == 201, response.json
    answer = response.json
    assert set(answer) == {"id", "status", "purpose", "parties", "valid_from", "valid_until",
                           "created_at", "receipt", "withdrawn_at"}
    assert answer["status"] == "active" and answer["withdrawn_at"] is None
    assert answer["parties"] == [ex.SCHOOL, "ggd"] and answer["purpose"] == "mazl"
    jwks = gw.client.get("/oauth/jwks").json
    key = KeySet.import_key_set(jwks)  # whichever published key signs receipts
    token = jwt.decode(answer["receipt"], key, algorithms=["ES256"])
    assert token.header["typ"] == "consent-receipt+jwt" and token.header["alg"] == "ES256"
    assert token.header["kid"] in {k["kid"] for k in jwks["keys"]}
    child_ref = gw.pseudonymiser.pseudonymise(Bsn(ex.BSN), "consent")
    claims = token.claims
    assert claims["iss"] == gw.settings.issuer and claims["jti"] == answer["id"]
    # per consent (API.md section 13 rule 1), never the child's consent-domain pseudonym
    assert claims["subject_ref"] and claims["subject_ref"] != child_ref
    again = gw.record(purpose="support", parties=(ex.SCHOOL, "wij")).json
    other = jwt.decode(again["receipt"], key, algorithms=["ES256"]).claims
    assert other["subject_ref"] != claims["subject_ref"]
    assert claims["grantor_roles"] == ["parent"] and claims["evidence_method"] == "written"
    assert claims["recorded_by"] == ex.SCHOOL and claims["parties"] == [ex.SCHOOL, "ggd"]
    assert (claims["valid_from"], claims["valid_until"]) == (answer["valid_from"],
                                                            answer["valid_until"])
    assert ex.BSN not in json.dumps(claims) and ex.BSN not in response.get_data(as_text=True)


def test_storage_holds_the_pseudonym_sealed_details_history_and_an_audit_event(gw):
    answer = gw.record().json
    with gw.db.session() as session:
        row = session.scalars(select(ConsentRow)).one()
        history = session.scalars(select(ConsentStatusRow)).all()
    assert row.subject_ref == gw.pseudonymiser.pseudonymise(Bsn(ex.BSN), "consent")
    columns = " ".join(str(getattr(row, c.key)) for c in ConsentRow.__table__.columns)
    assert ex.BSN not in columns and ex.born(TODAY, 9) not in columns
    assert "formulier" not in columns
    opened = Sealer(gw.keystore.keyring, CONSENT_DETAILS).open(row.id, row.key_version, row.sealed)
    assert opened == {"date_of_birth": ex.born(TODAY, 9), "evidence_reference": "formulier 2026-17"}
    assert [(h.consent_id, h.status) for h in history] == [(answer["id"], "active")]
    [event] = gw.audit("consent.record")
    assert event["decision"] == "allowed" and event["consent_id"] == answer["id"]
    assert event["actor"] == {"org": ex.SCHOOL, "client_id": f"client-{ex.SCHOOL}", "user": None}
    assert event["subject_ref"] == gw.pseudonymiser.pseudonymise(Bsn(ex.BSN), "audit")
    assert event["purpose"] == "mazl"
    assert event["clear_to"] == f",{ex.SCHOOL},"  # the recorder named the child's BSN


@pytest.mark.parametrize(
    ("start", "end", "status"),
    [(-400, -40, "expired"), (10, 100, "pending"), (0, 0, "active")],
)
def test_backdated_ended_and_future_consents_are_recorded_with_derived_status(
    gw, start, end, status
):
    response = gw.record(start=start, end=end)
    assert response.status_code == 201, response.json
    assert response.json["status"] == status
    with gw.db.session() as session:
        assert session.scalars(select(ConsentStatusRow.status)).one() == status


@pytest.mark.parametrize(
    ("years", "roles"),
    [(9, ["youth"]), (13, ["parent"]), (13, ["youth"]), (17, ["parent", "guardian"])],
)
def test_age_rule_refusals_store_nothing_and_are_audited(gw, years, roles):
    response = gw.record(years=years, roles=roles)
    assert_problem(response, 422, "consent_grantor_invalid")
    assert list(response.json["errors"]) == ["granted_by"]
    assert gw.count(ConsentRow) == 0 and gw.count(ConsentStatusRow) == 0
    [event] = gw.audit("consent.record")
    assert (event["decision"], event["reason"]) == ("denied", "consent_grantor_invalid")
    assert event["subject_ref"] == gw.pseudonymiser.pseudonymise(Bsn(ex.BSN), "audit")


@pytest.mark.parametrize(("years", "roles"), [(9, ["guardian"]), (13, ["guardian", "youth"]),
                                               (17, ["youth"]), (17, ["youth", "parent"])])
def test_each_age_band_accepts_enough_grantors(gw, years, roles):
    assert gw.record(years=years, roles=roles).status_code == 201


def test_body_refusals_are_audited_and_store_nothing(gw):
    bad = consent_body()
    del bad["purpose"]
    response = gw.post(ex.SCHOOL, "/api/v1/consents", bad)
    assert_problem(response, 422, "validation_failed")
    assert response.json["errors"] == {"purpose": ["This field is required."]}
    wrong_bsn = gw.record(bsn="123456789")
    assert_problem(wrong_bsn, 422, "validation_failed")
    assert "subject.bsn" in wrong_bsn.json["errors"]
    zero_sum = gw.record(bsn="100000009")  # elfproef sum 0: not a BSN for pseudonymise
    assert_problem(zero_sum, 422, "validation_failed")
    assert zero_sum.json["errors"] == {"subject.bsn": ["is not a valid BSN"]}
    before_birth = gw.record(start=-400 * 30)
    assert_problem(before_birth, 422, "validation_failed")
    assert before_birth.json["errors"] == {"valid_from": ["Must be on or after date_of_birth."]}
    media = gw.post(ex.SCHOOL, "/api/v1/consents", "x=1",
                    **{"Content-Type": "application/x-www-form-urlencoded"})
    assert_problem(media, 415, "unsupported_media_type")
    duplicate = gw.post(ex.SCHOOL, "/api/v1/consents", '{"a": 1, "a": 2}',
                        **{"Content-Type": "application/json"})
    assert_problem(duplicate, 400, "invalid_json")
    assert gw.count(ConsentRow) == 0
    events = gw.audit("consent.record")
    assert [e["reason"] for e in events] == ["validation_failed"] * 4 + [
        "unsupported_media_type", "invalid_json"]
    assert events[0]["subject_ref"] is not None and events[1]["subject_ref"] is None
    assert ex.BSN not in json.dumps(events)


def test_scope_is_required_and_its_refusal_audited(gw):
    response = gw.post(ex.SCHOOL, "/api/v1/consents", consent_body(), scope="consent:read")
    assert_problem(response, 403, "insufficient_scope")
    search = gw.post(ex.SCHOOL, "/api/v1/consents/search", {"subject": {"bsn": ex.BSN}},
                     scope="consent:write")
    assert_problem(search, 403, "insufficient_scope")
    assert gw.count(ConsentRow) == 0
    assert [(e["action"], e["reason"]) for e in gw.audit()] == [
        ("consent.record", "insufficient_scope"), ("consent.search", "insufficient_scope")]
    assert gw.client.post("/api/v1/consents", json=consent_body()).status_code == 401


def test_get_is_for_the_recorder_and_parties_named_by_oin(gw):
    consent = gw.record(parties=(ex.GGD, "wij")).json  # the school records, is no party
    for oin in (ex.SCHOOL, ex.GGD):
        response = gw.get(oin, f"/api/v1/consents/{consent['id']}")
        assert response.status_code == 200 and response.json == consent
    # WIJ is covered by type only and received nothing under it (API.md section 13 rule 3)
    for oin in (ex.WIJ, ex.GGD_2, ex.SWV):
        assert_problem(gw.get(oin, f"/api/v1/consents/{consent['id']}"), 404, "not_found")
    assert_problem(gw.get(ex.SCHOOL, "/api/v1/consents/nope"), 404, "not_found")
    reads = gw.audit("consent.read")
    assert [e["decision"] for e in reads] == ["allowed"] * 2 + ["denied"] * 4
    assert all(e["consent_id"] is None for e in reads[2:])


def test_withdraw_by_a_party_named_by_oin_at_once_and_never_deleted(gw):
    consent = gw.record(parties=(ex.SCHOOL, ex.GGD_2, "ggd")).json
    url = f"/api/v1/consents/{consent['id']}/withdraw"
    body = {"withdrawn_by": {"role": "parent"}, "reason": "Ouders trekken toestemming in."}
    assert_problem(gw.post(ex.WIJ, url, body), 404, "not_found")
    assert_problem(gw.post(ex.GGD, url, body), 404, "not_found")  # a GGD by type only
    response = gw.post(ex.GGD_2, url, body)  # named by OIN
    assert response.status_code == 200, response.json
    assert response.json["status"] == "withdrawn" and response.json["withdrawn_at"]
    again = gw.post(ex.SCHOOL, url, body)
    assert again.status_code == 200 and again.json == response.json
    assert gw.get(ex.SCHOOL, f"/api/v1/consents/{consent['id']}").json["status"] == "withdrawn"
    with gw.db.session() as session:
        history = session.scalars(select(ConsentStatusRow).order_by(ConsentStatusRow.id)).all()
    assert [(h.status, h.role) for h in history] == [("active", None), ("withdrawn", "parent")]
    assert history[1].sealed_reason and b"Ouders" not in history[1].sealed_reason
    events = gw.audit("consent.withdraw")
    assert [(e["decision"], e["reason"], e["consent_id"]) for e in events] == [
        ("denied", "not_found", None), ("denied", "not_found", None),
        ("allowed", None, consent["id"])]
    assert events[2]["actor"]["org"] == ex.GGD_2


def test_a_type_party_that_received_under_a_consent_sees_it_but_does_not_withdraw(gw):
    consent = gw.record().json  # (school OIN, "ggd")
    assert referral(gw).status_code == 202
    url = f"/api/v1/consents/{consent['id']}"
    assert gw.get(ex.GGD, url).json["id"] == consent["id"]
    refused = gw.post(ex.GGD, f"{url}/withdraw",
                      {"withdrawn_by": {"role": "parent"}, "reason": "Gebeld door ouder."})
    assert_problem(refused, 403, "consent_withdraw_not_allowed")
    assert gw.get(ex.SCHOOL, url).json["status"] == "active"
    event = gw.audit("consent.withdraw")[-1]
    assert (event["decision"], event["reason"], event["consent_id"]) == (
        "denied", "consent_withdraw_not_allowed", consent["id"])


def test_withdraw_body_is_checked(gw):
    consent = gw.record().json
    url = f"/api/v1/consents/{consent['id']}/withdraw"
    response = gw.post(ex.SCHOOL, url, {"withdrawn_by": {"role": "uncle"}})
    assert_problem(response, 422, "validation_failed")
    assert set(response.json["errors"]) == {"withdrawn_by.role", "reason"}
    assert gw.get(ex.SCHOOL, f"/api/v1/consents/{consent['id']}").json["status"] == "active"
    [event] = gw.audit("consent.withdraw")
    assert event["reason"] == "validation_failed" and event["consent_id"] == consent["id"]


def test_search_by_bsn_pages_through_what_the_caller_recorded(gw):
    mine = [gw.record(end=days).json["id"] for days in (10, 20, 30)]
    mine.append(gw.record(purpose="support", parties=("school", ex.WIJ)).json["id"])
    gw.record(bsn=ex.OTHER_BSN)
    search = "/api/v1/consents/search"
    page = gw.post(ex.SCHOOL, search, {"subject": {"bsn": ex.BSN}, "limit": 2}).json
    assert [c["id"] for c in page["items"]] == mine[:2] and page["next_cursor"]
    rest = gw.post(ex.SCHOOL, search, {"subject": {"bsn": ex.BSN}, "cursor": page["next_cursor"]})
    assert [c["id"] for c in rest.json["items"]] == mine[2:]
    assert rest.json["next_cursor"] is None
    # named by OIN or type, but never had the BSN from the gateway: nothing (rule 2)
    for oin in (ex.GGD, ex.WIJ, ex.SWV):
        assert gw.post(oin, search, {"subject": {"bsn": ex.BSN}}).json == {
            "items": [], "next_cursor": None}
    events = gw.audit("consent.search")
    assert {e["subject_ref"] for e in events} == {
        gw.pseudonymiser.pseudonymise(Bsn(ex.BSN), "audit")}
    assert [e["clear_to"] for e in events[-3:]] == [f",{oin}," for oin in (ex.GGD, ex.WIJ, ex.SWV)]


def test_search_by_own_pseudonym_finds_the_consent_an_exchange_came_under(gw):
    consent = gw.record().json
    assert referral(gw).status_code == 202
    [item] = gw.get(ex.GGD, "/api/v1/inbox").json["items"]
    found = gw.post(ex.GGD, "/api/v1/consents/search", {"subject": item["subject"]})
    assert found.status_code == 200, found.json
    assert [c["id"] for c in found.json["items"]] == [consent["id"]]
    event = gw.audit("consent.search")[-1]
    assert event["subject_ref"] == gw.pseudonymiser.pseudonymise(Bsn(ex.BSN), "audit")
    assert (event["pseudonym_to"], event["clear_to"]) == (f",{ex.GGD},", None)
    # the same pseudonym from another organisation: an empty page, as for an unused BSN
    other = gw.post(ex.GGD_2, "/api/v1/consents/search", {"subject": item["subject"]})
    assert other.json == {"items": [], "next_cursor": None}
    assert gw.audit("consent.search")[-1]["subject_ref"] is None


def test_a_receipt_recorded_before_rule_1_is_answered_reissued(gw):
    """Consents recorded before API.md section 13 stored receipts naming the child by its
    consent-domain pseudonym; the registry answers a per-consent one instead, keeping iat."""
    consent = gw.record().json
    child_ref = gw.pseudonymiser.pseudonymise(Bsn(ex.BSN), "consent")
    keys = KeySet.import_key_set(gw.client.get("/oauth/jwks").json)
    claims = jwt.decode(consent["receipt"], keys).claims
    key = gw.keystore.current_signing_key  # what signed receipts before v1.1
    old = jwt.encode({"alg": key.alg, "kid": key.kid, "typ": "consent-receipt+jwt"},
                     dict(claims, subject_ref=child_ref, iat=1700000000), key.jwk,
                     algorithms=[key.alg])
    with gw.db.session() as session:
        session.scalars(select(ConsentRow).where(ConsentRow.id == consent["id"])).one().receipt = old
    answer = gw.get(ex.SCHOOL, f"/api/v1/consents/{consent['id']}").json
    reissued = jwt.decode(answer["receipt"], keys).claims
    assert reissued["subject_ref"] != child_ref and reissued["iat"] == 1700000000
    assert {k: v for k, v in reissued.items() if k not in ("subject_ref", "iat")} == {
        k: v for k, v in claims.items() if k not in ("subject_ref", "iat")}
    with gw.db.session() as session:
        row = session.scalars(select(ConsentRow).where(ConsentRow.id == consent["id"])).one()
        assert row.receipt == old  # history is not rewritten


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"subject": {"bsn": ex.BSN}, "cursor": "bm9wZQ"}, 400, "invalid_parameter"),
        ({"subject": {"bsn": ex.BSN}, "limit": 0}, 400, "invalid_parameter"),
        ({"subject": {"bsn": ex.BSN}, "limit": "5"}, 400, "invalid_parameter"),
        ({"subject": {"pseudonym": "a+b"}}, 422, "validation_failed"),
        ({"subject": {"pseudonym": "abc", "bsn": ex.BSN}}, 422, "validation_failed"),
        ({"subject": {"bsn": "100000009"}}, 422, "validation_failed"),
        ({}, 422, "validation_failed"),
    ],
)
def test_search_refusals(gw, body, status, code):
    response = gw.post(ex.SCHOOL, "/api/v1/consents/search", body)
    assert_problem(response, status, code)
    [event] = gw.audit("consent.search")
    assert (event["decision"], event["reason"]) == ("denied", code)


# enforcement in the exchange pipeline ------------------------------------------------------
def send(gw, message_type, sender, recipient, payload):
    body = {"message_type": message_type, "recipient": recipient,
            "subject": {"bsn": ex.BSN}, "payload": payload}
    return gw.post(sender, "/api/v1/exchanges", body, **{"Idempotency-Key": uuid.uuid4().hex})


def referral(gw, recipient=ex.GGD):
    return send(gw, "sickness_absence_referral", ex.SCHOOL, recipient,
                ex.sickness_absence_referral(TODAY))


def support(gw):
    return send(gw, "support_request", ex.SCHOOL, ex.WIJ, ex.support_request(TODAY))


def test_exchange_is_allowed_only_while_a_consent_covers_it(gw):
    assert_problem(referral(gw), 403, "consent_missing")
    pending = gw.record(start=5, end=50).json
    assert_problem(referral(gw), 403, "consent_missing")  # not yet valid
    consent = gw.record().json
    accepted = referral(gw)
    assert accepted.status_code == 202, accepted.json
    assert referral(gw, ex.GGD_2).status_code == 202  # the consent names the type ggd
    assert_problem(support(gw), 403, "consent_missing")  # other purpose, other party
    withdraw = {"withdrawn_by": {"role": "parent"}, "reason": "ingetrokken"}
    gw.post(ex.SCHOOL, f"/api/v1/consents/{consent['id']}/withdraw", withdraw)
    assert_problem(referral(gw), 403, "consent_withdrawn")
    sends = gw.audit("exchange.send")
    assert [(e["decision"], e["reason"], e["consent_id"]) for e in sends] == [
        ("denied", "consent_missing", None),
        ("denied", "consent_missing", None),
        ("allowed", None, consent["id"]),
        ("allowed", None, consent["id"]),
        ("denied", "consent_missing", None),
        ("denied", "consent_withdrawn", None),
    ]
    assert sends[2]["legal_basis"] == {"type": "consent", "consent_id": consent["id"]}
    assert pending["id"] not in json.dumps(sends)


def test_expired_consent_refuses_with_consent_expired(gw):
    gw.record(purpose="support", parties=("school", "wij"), start=-200, end=-1)
    assert_problem(support(gw), 403, "consent_expired")
    gw.record(purpose="support", parties=("school", "wij"), start=0, end=0)
    assert support(gw).status_code == 202


def test_consent_checks_are_counted_by_result():
    from consent.interfaces import ConsentDecision, Party
    from gateway.consents.checker import CountingConsentChecker

    class Fixed:
        def __init__(self, decision):
            self.decision = decision

        def check(self, *args, **kwargs):
            return self.decision

    def count(result):
        return REGISTRY.get_sample_value("gateway_consent_checks_total", {"result": result}) or 0

    party = Party(ex.SCHOOL, "school")
    for decision, result in [(ConsentDecision(True, "c"), "allowed"),
                             (ConsentDecision(False, None, "consent_expired"), "consent_expired"),
                             (ConsentDecision(False), "consent_missing")]:
        before = count(result)
        assert CountingConsentChecker(Fixed(decision)).check("r", "mazl", party, party, None) \
            is decision
        assert count(result) == before + 1
