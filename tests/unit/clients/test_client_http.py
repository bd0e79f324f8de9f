"""``GatewayClient`` against an in-process fake gateway (a requests transport adapter).

The fake does what docs/polymorphic.md says the gateway does, with the gateway's own
``pseudonymise.pep``: it checks client assertions, seals key shares as JWEs, verifies link
and equality proofs and transcrypts between domains. So a school-to-GGD round trip here
exercises the client's HTTP handling and its cryptography end to end, without a server.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
import requests
from joserfc import jwe, jwt
from joserfc.jwk import ECKey
from requests.adapters import BaseAdapter
from thuiszitterspact_client import (
    GatewayClient,
    GatewayError,
    InvalidBsnError,
    KeyShareError,
    PepError,
)

from pseudonymise import pep as gw
from pseudonymise.bsn import Bsn
from pseudonymise.pep import group as gw_group

BASE = "https://gateway.test"
BSN = "123456782"
SCHOOL = "00000001001234567000"
GGD = "00000001003456789000"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def pseudonym_of(issuer: gw.KeyIssuer, bsn: str, oin: str) -> str:
    element = gw_group.mul(issuer.factors("pseudonym:" + oin).reshuffle,
                           gw.bsn_element(Bsn(bsn)))
    return base64.urlsafe_b64encode(element).rstrip(b"=").decode("ascii")


@dataclass
class Call:
    method: str
    url: str
    headers: dict
    body: str | bytes | None
    timeout: object


@dataclass
class Registered:
    client_id: str
    oin: str
    org_type: str
    key: ECKey


@dataclass
class FakeGateway(BaseAdapter):
    """Just enough of the gateway for the client; every request is recorded."""

    issuer: gw.KeyIssuer = field(default_factory=gw.KeyIssuer.generate)
    clients: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)
    inboxes: dict = field(default_factory=dict)
    delivered: dict = field(default_factory=dict)  # exchange id -> (recipient OIN, ciphertext)
    requests: list = field(default_factory=list)
    jtis: set = field(default_factory=set)
    expires_in: int = 300
    reject_tokens: int = 0  # answer invalid_token to this many authenticated calls
    published_issuer: gw.KeyIssuer | None = None  # to publish other keys than the shares'
    share_organisation: str | None = None  # to seal a share of another organisation

    def __post_init__(self) -> None:
        super().__init__()

    def register(self, client_id: str, oin: str, org_type: str) -> Registered:
        key = ECKey.generate_key(
            "P-256", parameters={"kid": f"{client_id}-1", "alg": "ES256", "use": "sig"}
        )
        self.clients[client_id] = Registered(client_id, oin, org_type, key)
        self.inboxes.setdefault(oin, [])
        return self.clients[client_id]

    def client(self, client_id: str, **kwargs) -> GatewayClient:
        session = requests.Session()
        session.mount(BASE, self)
        key = self.clients[client_id].key.as_dict(private=True)
        return GatewayClient(BASE, client_id, key, session=session, **kwargs)

    # -- transport -----------------------------------------------------------------------

    def close(self) -> None:
        pass

    def send(self, request, **kwargs):
        self.requests.append(Call(request.method, request.url, dict(request.headers),
                                  request.body, kwargs.get("timeout")))
        url = urlsplit(request.url)
        try:
            status, body, headers = self.route(request, url.path, dict(parse_qsl(url.query)))
        except Problem as problem:
            status, body, headers = problem.status, problem.body(url.path), problem.headers
        response = requests.Response()
        response.status_code = status
        response.url = request.url
        response.request = request
        response._content = json.dumps(body).encode()
        response.headers["Content-Type"] = headers.pop("Content-Type", "application/json")
        response.headers.update(headers)
        return response

    def route(self, request, path: str, query: dict):
        if path == "/oauth/token":
            return self.token(request)
        if path == "/api/v1/pep/public-key":
            keys = self.published_issuer or self.issuer
            return 200, {
                "version": 1, "group": "ristretto255",
                "master_public_key": b64(keys.master_public_key),
                "link_public_key": b64(keys.link_public_key),
            }, {}
        caller = self.authenticate(request)
        body = json.loads(request.body) if request.body else None
        if path == "/api/v1/me":
            return 200, {"client_id": caller.client_id, "org": caller.oin,
                         "org_type": caller.org_type, "scopes": ["exchange:send"]}, {}
        if path == "/api/v1/pep/key-share":
            return 200, self.key_share(caller), {}
        if path == "/api/v1/exchanges":
            if not request.headers.get("Idempotency-Key"):
                raise Problem(400, "idempotency_key_required")
            return 202, self.exchange(caller, body), {}
        if path == "/api/v1/inbox":
            limit = int(query.get("limit", 50))
            start = int(query.get("cursor", 0))
            items = self.inboxes[caller.oin][start:start + limit]
            more = start + limit < len(self.inboxes[caller.oin])
            return 200, {"items": items, "next_cursor": str(start + limit) if more else None}, {}
        if path.startswith("/api/v1/inbox/") and path.endswith("/ack"):
            exchange_id = unquote(path.split("/")[4])
            self.inboxes[caller.oin] = [i for i in self.inboxes[caller.oin]
                                        if i["id"] != exchange_id]
            return 200, {"id": exchange_id, "status": "acknowledged"}, {}
        if path in ("/api/v1/consents", "/api/v1/signals"):
            self.link_tag(caller, body["subject"])
            return 201, {"id": str(uuid.uuid4()), "status": "active"}, {}
        raise Problem(404, "not_found")

    # -- OAuth ---------------------------------------------------------------------------

    def token(self, request):
        form = dict(parse_qsl(request.body))
        assertion = form.get("client_assertion", "")
        header = json.loads(base64.urlsafe_b64decode(assertion.split(".")[0] + "=="))
        claims = json.loads(base64.urlsafe_b64decode(assertion.split(".")[1] + "=="))
        client = self.clients.get(claims.get("iss"))
        if client is None or header.get("kid") != client.key.kid:
            return 401, {"error": "invalid_client", "error_description": "Client failed."}, {}
        jwt.decode(assertion, client.key, algorithms=["ES256"])  # raises on a bad signature
        now = int(time.time())
        valid = (
            form.get("grant_type") == "client_credentials"
            and form.get("client_assertion_type")
            == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            and header["alg"] == "ES256"
            and claims["sub"] == client.client_id
            and claims["aud"] == f"{BASE}/oauth/token"
            and now <= claims["exp"] <= now + 300
            and claims["jti"] not in self.jtis
        )
        if not valid:
            return 401, {"error": "invalid_client", "error_description": "Client failed."}, {}
        self.jtis.add(claims["jti"])
        token = uuid.uuid4().hex
        self.tokens[token] = client
        return 200, {"access_token": token, "token_type": "Bearer",
                     "expires_in": self.expires_in}, {"Cache-Control": "no-store"}

    def authenticate(self, request) -> Registered:
        authorization = request.headers.get("Authorization", "")
        if not authorization.startswith("Bearer "):
            raise Problem(401, "missing_token", headers={"WWW-Authenticate": "Bearer"})
        client = self.tokens.get(authorization[7:])
        if client is None or self.reject_tokens > 0:
            self.reject_tokens -= 1
            raise Problem(401, "invalid_token",
                          headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return client

    # -- polymorphic mode ----------------------------------------------------------------

    def key_share(self, caller: Registered) -> dict:
        oin = self.share_organisation or caller.oin
        share = self.issuer.key_share("pseudonym:" + oin)
        plaintext = {
            "domain": share.domain, "organisation": oin, "version": 1,
            "secret_key": b64(share.secret_key), "public_key": b64(share.public_key),
            "master_public_key": b64(share.master_public_key),
            "link_secret": b64(share.link_secret), "link_public_key": b64(share.link_public_key),
        }
        public = {k: v for k, v in caller.key.as_dict(private=False).items()
                  if k not in ("use", "alg")}
        token = jwe.encrypt_compact(
            {"alg": "ECDH-ES+A256KW", "enc": "A256GCM", "kid": caller.key.kid,
             "cty": "application/json"},
            json.dumps(plaintext).encode(), ECKey.import_key(public),
        )
        return {"organisation": oin, "client_id": caller.client_id, "kid": caller.key.kid,
                "version": 1, "key_share": token}

    def link_tag(self, caller: Registered, subject: dict) -> tuple[gw.ElGamal, bytes]:
        raw = base64.b64decode(subject["polymorphic"], validate=True)
        ciphertext, tag, proof = gw.ElGamal.from_bytes(raw[:96]), raw[96:128], raw[128:]
        try:
            gw.verify_link(ciphertext, self.issuer.link_public_key, tag, proof,
                           caller.oin.encode("ascii"))
        except gw.ProofError:
            raise Problem(422, "invalid_polymorphic") from None
        return ciphertext, tag

    def factors(self, oin: str) -> gw.DomainFactors:
        return self.issuer.factors("pseudonym:" + oin)

    def exchange(self, caller: Registered, body: dict) -> dict:
        subject, recipient = body["subject"], body["recipient"]
        target = self.factors(recipient)
        if "polymorphic" in subject:
            ciphertext, _ = self.link_tag(caller, subject)
            between = gw.TranscryptionFactors.between(
                self.issuer.master_public_key, None, (target.reshuffle, target.rekey)
            )
        else:
            received_in = subject["received_in"]
            if self.delivered.get(received_in, (None,))[0] != caller.oin:
                raise Problem(422, "unknown_reference")
            raw = base64.b64decode(subject["encrypted_pseudonym"], validate=True)
            ciphertext, proof = gw.ElGamal.from_bytes(raw[:96]), raw[96:]
            try:
                gw.verify_equal(ciphertext, self.delivered[received_in][1], proof,
                                f"{caller.oin}|{received_in}".encode("ascii"))
            except gw.ProofError:
                raise Problem(422, "invalid_polymorphic") from None
            source = self.factors(caller.oin)
            between = gw.TranscryptionFactors.between(
                source.public_key, (source.reshuffle, source.rekey),
                (target.reshuffle, target.rekey),
            )
        out = gw.transcrypt(ciphertext, between, rerandomise_output=True)
        exchange_id = str(uuid.uuid4())
        self.delivered[exchange_id] = (recipient, out)
        self.inboxes[recipient].append({
            "id": exchange_id, "message_type": body["message_type"],
            "sender": {"oin": caller.oin, "name": caller.client_id, "type": caller.org_type},
            "subject": {"encrypted_pseudonym": out.to_base64()},
            "payload": body["payload"],
        })
        return {"id": exchange_id, "status": "accepted"}


class Problem(Exception):
    def __init__(self, status: int, code: str, headers: dict | None = None, errors=None):
        super().__init__(code)
        self.status, self.code, self.headers, self.errors = status, code, headers or {}, errors

    def body(self, path: str) -> dict:
        body = {"type": f"urn:nl:thuiszitterspact:problem:{self.code}", "title": "Refused",
                "status": self.status, "detail": f"Refused: {self.code}.", "code": self.code,
                "instance": path}
        if self.errors:
            body["errors"] = self.errors
        self.headers["Content-Type"] = "application/problem+json"
        return body


@pytest.fixture
def gateway() -> FakeGateway:
    fake = FakeGateway()
    fake.register("regenboog-sis", SCHOOL, "school")
    fake.register("ggd-jgz", GGD, "ggd")
    return fake


def token_requests(gateway: FakeGateway) -> int:
    return len(calls(gateway, "/oauth/token"))


def calls(gateway: FakeGateway, path: str) -> list[Call]:
    return [call for call in gateway.requests if urlsplit(call.url).path == path]


# -- the round trip ------------------------------------------------------------------------


def test_school_sends_ggd_receives_and_replies_by_pseudonym(gateway):
    school = gateway.client("regenboog-sis", oin=SCHOOL)
    ggd = gateway.client("ggd-jgz")  # learns its OIN from /api/v1/me

    sent = school.send_polymorphic("sickness_absence_referral", GGD, BSN, {"concern": "x"})
    [item] = ggd.receive()

    assert item["id"] == sent["id"]
    assert item["pseudonym"] == pseudonym_of(gateway.issuer, BSN, GGD)
    assert set(item["subject"]) == {"encrypted_pseudonym"}  # as delivered, for the reply
    assert gateway.inboxes[GGD][0] == {k: v for k, v in item.items() if k != "pseudonym"}

    ggd.reply("jgz_advice", SCHOOL, item, {"in_reply_to": item["id"]})
    [advice] = school.receive()

    assert advice["payload"] == {"in_reply_to": item["id"]}
    assert advice["pseudonym"] == pseudonym_of(gateway.issuer, BSN, SCHOOL)
    assert ggd.ack(item["id"])["status"] == "acknowledged"
    assert ggd.receive() == []


def test_the_same_child_gets_the_same_pseudonym_every_time(gateway):
    school, ggd = gateway.client("regenboog-sis"), gateway.client("ggd-jgz")
    for _ in range(3):
        school.send_polymorphic("sickness_absence_referral", GGD, BSN, {})
    school.send_polymorphic("sickness_absence_referral", GGD, "111222333", {})

    pseudonyms = [item["pseudonym"] for item in ggd.receive(limit=2)]  # pages through

    assert len(pseudonyms) == 4 and len(set(pseudonyms[:3])) == 1
    assert pseudonyms[3] != pseudonyms[0]


def test_receive_marks_an_item_it_cannot_open_and_goes_on(gateway):
    school, ggd = gateway.client("regenboog-sis"), gateway.client("ggd-jgz")
    school.send_polymorphic("sickness_absence_referral", GGD, BSN, {})
    stray = dict(gateway.inboxes[GGD][0], id="stray")
    school_key = gateway.factors(SCHOOL).public_key
    stray["subject"] = {"encrypted_pseudonym": gw.encrypt(
        gw.bsn_element(Bsn(BSN)), school_key).to_base64()}
    gateway.inboxes[GGD].insert(0, stray)
    gateway.requests.clear()

    first, second = ggd.receive()

    assert first["pseudonym"] is None and first["pseudonym_error"] == "wrong_key"
    assert second["pseudonym"] == pseudonym_of(gateway.issuer, BSN, GGD)
    assert len(calls(gateway, "/api/v1/pep/key-share")) == 2  # fetched once more in case it was reissued, then not again


def test_a_reply_to_an_item_not_received_is_refused_by_the_gateway(gateway):
    school, ggd = gateway.client("regenboog-sis"), gateway.client("ggd-jgz")
    school.send_polymorphic("sickness_absence_referral", GGD, BSN, {})
    [item] = ggd.receive()
    gateway.delivered.pop(item["id"])

    with pytest.raises(GatewayError) as refused:
        ggd.reply("jgz_advice", SCHOOL, item, {"in_reply_to": item["id"]})

    assert (refused.value.status, refused.value.code) == (422, "unknown_reference")


def test_a_reply_needs_a_polymorphic_item(gateway):
    ggd = gateway.client("ggd-jgz")
    with pytest.raises(ValueError, match="encrypted_pseudonym"):
        ggd.reply("jgz_advice", SCHOOL, {"id": "x", "subject": {"pseudonym": "abc"}}, {})


def test_consents_and_signals_carry_a_polymorphic_subject(gateway):
    school = gateway.client("regenboog-sis")
    consent = {"purpose": "mazl", "parties": [SCHOOL, "ggd"]}

    assert school.record_consent(consent, BSN)["status"] == "active"
    assert school.create_signal(BSN, "wellbeing", {"name": "J. de Vries"})["status"] == "active"

    sent = [json.loads(call.body) for call in calls(gateway, "/api/v1/consents")]
    assert set(sent[0]) == {"purpose", "parties", "subject"}
    assert set(sent[0]["subject"]) == {"polymorphic"}
    assert BSN not in json.dumps(sent)
    with pytest.raises(ValueError, match="subject"):
        school.record_consent({**consent, "subject": {"bsn": BSN}}, BSN)


def test_an_invalid_bsn_is_refused_before_anything_is_sent(gateway):
    school = gateway.client("regenboog-sis", oin=SCHOOL)
    with pytest.raises(InvalidBsnError) as refused:
        school.send_polymorphic("sickness_absence_referral", GGD, "123456789", {})
    assert "123456789" not in str(refused.value)
    assert gateway.requests == []


# -- keys ------------------------------------------------------------------------------------


def test_the_key_share_is_opened_with_the_signing_key_and_cached(gateway):
    ggd = gateway.client("ggd-jgz")
    share = ggd.key_share()

    assert share.organisation == GGD and share is ggd.key_share()
    assert share.public_key == gateway.factors(GGD).public_key
    assert "<hidden>" in repr(share)


def test_a_key_share_of_other_public_keys_is_refused(gateway):
    gateway.published_issuer = gw.KeyIssuer.generate()
    with pytest.raises(KeyShareError, match="published public keys"):
        gateway.client("ggd-jgz").key_share()


def test_a_key_share_of_another_organisation_is_refused(gateway):
    gateway.share_organisation = SCHOOL
    with pytest.raises(PepError, match="another organisation"):
        gateway.client("ggd-jgz").key_share()


def test_a_key_share_not_issued_is_a_gateway_error(gateway, monkeypatch):
    def not_issued(caller):
        raise Problem(404, "key_share_not_issued")

    monkeypatch.setattr(gateway, "key_share", not_issued)
    with pytest.raises(GatewayError) as refused:
        gateway.client("ggd-jgz").key_share()
    assert (refused.value.status, refused.value.code) == (404, "key_share_not_issued")


# -- tokens and HTTP -------------------------------------------------------------------------


def test_the_client_assertion_is_what_the_gateway_accepts(gateway):
    school = gateway.client("regenboog-sis")
    school.me()
    school._tokens.forget()  # force a second assertion
    school.me()

    forms = [dict(parse_qsl(call.body)) for call in calls(gateway, "/oauth/token")]
    assert len(forms) == 2
    claims = [jwt.decode(f["client_assertion"], gateway.clients["regenboog-sis"].key).claims
              for f in forms]
    headers = [json.loads(base64.urlsafe_b64decode(f["client_assertion"].split(".")[0] + "=="))
               for f in forms]
    assert all(h["alg"] == "ES256" and h["kid"] == "regenboog-sis-1" for h in headers)
    assert all(c["exp"] - c["iat"] == 120 and c["aud"] == f"{BASE}/oauth/token" for c in claims)
    assert claims[0]["jti"] != claims[1]["jti"]


def test_the_token_is_cached_until_shortly_before_it_expires(gateway):
    school = gateway.client("regenboog-sis")
    school.me()
    school.me()
    assert token_requests(gateway) == 1

    gateway.expires_in = 30  # within the renewal margin: every call needs a new one
    short = gateway.client("ggd-jgz")
    short.me()
    short.me()
    assert token_requests(gateway) == 3


def test_an_invalid_token_is_retried_once_with_a_new_token(gateway):
    school = gateway.client("regenboog-sis")
    school.me()
    gateway.reject_tokens = 1

    assert school.me()["org"] == SCHOOL
    assert token_requests(gateway) == 2


def test_a_second_invalid_token_is_raised(gateway):
    school = gateway.client("regenboog-sis")
    gateway.reject_tokens = 5

    with pytest.raises(GatewayError) as refused:
        school.me()

    assert (refused.value.status, refused.value.code) == (401, "invalid_token")
    assert token_requests(gateway) == 2


def test_problem_details_become_gateway_errors(gateway, monkeypatch):
    def refuse(caller, body):
        raise Problem(422, "validation_failed", errors={"payload.concern": ["Too long."]})

    monkeypatch.setattr(gateway, "exchange", refuse)
    with pytest.raises(GatewayError) as refused:
        gateway.client("regenboog-sis").send("x", GGD, {}, {"pseudonym": "abc"})

    error = refused.value
    assert (error.status, error.code, error.detail) == (422, "validation_failed",
                                                         "Refused: validation_failed.")
    assert error.errors == {"payload.concern": ["Too long."]}


def test_an_unknown_client_gets_an_oauth_error(gateway):
    gateway.clients["regenboog-sis"].key = ECKey.generate_key(
        "P-256", parameters={"kid": "other"})
    school = GatewayClient(BASE, "regenboog-sis", ECKey.generate_key(
        "P-256", parameters={"kid": "regenboog-sis-1"}).as_dict(private=True),
        session=gateway.client("ggd-jgz")._session)

    with pytest.raises(GatewayError) as refused:
        school.me()
    assert (refused.value.status, refused.value.code) == (401, "invalid_client")


def test_send_uses_an_idempotency_key(gateway):
    school = gateway.client("regenboog-sis")
    school.send_polymorphic("sickness_absence_referral", GGD, BSN, {})
    school.send_polymorphic("sickness_absence_referral", GGD, BSN, {}, idempotency_key="k-1")

    keys = [call.headers["Idempotency-Key"] for call in calls(gateway, "/api/v1/exchanges")]
    assert len(keys[0]) == 32 and int(keys[0], 16) >= 0 and keys[1] == "k-1"


def test_every_call_has_a_timeout(gateway):
    school = gateway.client("regenboog-sis", timeout=7)
    ggd = gateway.client("ggd-jgz", timeout=7)
    school.send_polymorphic("sickness_absence_referral", GGD, BSN, {})
    [item] = ggd.receive()
    ggd.reply("jgz_advice", SCHOOL, item, {"in_reply_to": item["id"]})
    ggd.ack(item["id"])

    assert len(gateway.requests) > 8
    assert all(call.timeout == 7 for call in gateway.requests)


def test_the_client_repr_hides_the_key(gateway):
    school = gateway.client("regenboog-sis")
    private = gateway.clients["regenboog-sis"].key.as_dict(private=True)["d"]
    assert private not in repr(school) and "regenboog-sis" in repr(school)
