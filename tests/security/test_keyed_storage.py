"""Nothing the gateway keeps can be inverted by a partner that can read the database.

Every partner in polymorphic mode holds the link secret ``t`` (it must, to prove the tag of
what it sends) and its own key share. Suppose such a partner also gets read access to the
database (a backup, a leaked dump, a careless replica). It then tries every BSN: it computes
``t*M`` and simple hashes of the BSN and of the bodies it could have sent, and looks for
them among the stored values. These tests store real traffic through the API (a polymorphic
send, a reply by encrypted pseudonym, a polymorphic signal match, a BSN send), read back
every column of every table, and let that attacker try 10,000 valid BSNs, the right one
among them. Nothing it computes may match. The attack is first shown to find the right
child's raw tag as a *candidate*, so a broken candidate generator cannot make the test pass.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from gateway import create_app
from gateway.config import Settings
from gateway.keys import KeyStore
from gateway.pep.issuing import Participant, issue
from gateway.registry.service import ClientCredentials, OrganisationRegistry
from gateway.storage.database import Database
from gateway.storage.models import Base
from pseudonymise import Bsn, is_valid_bsn, organisation_domain
from pseudonymise.pep import ElGamal, KeyIssuer, bsn_element, decrypt, link_tag
from tests import exchange_helpers as ex
from tests import pep_helpers as pep
from tests.oauth_helpers import client_assertion, make_client_key, token_form

TODAY = ex.today()
SCOPES = ["exchange:send", "exchange:receive", "consent:write", "consent:read", "signal:write"]
POLYMORPHIC = {ex.SCHOOL, ex.GGD, ex.SWV, ex.OPERATOR}
TRIES = 10_000


@pytest.fixture(scope="module")
def issuer():
    return KeyIssuer.generate()


class Partners:
    """The demo organisations on a gateway with issued polymorphic keys (Flask test client)."""

    def __init__(self, database_url, keys_dir, issuer):
        self.settings = Settings(database_url=database_url, keys_dir=keys_dir)
        self.db = Database(database_url)
        registry = OrganisationRegistry(self.db, production=False)
        self.keys = {}
        for oin, name, type_ in ex.ORGANISATIONS:
            registry.add_organisation(oin, name, type_, polymorphic=oin in POLYMORPHIC)
            self.keys[oin] = make_client_key()
            registry.add_client(oin, f"client-{oin}",
                                ClientCredentials("private_key_jwt", jwks=self.keys[oin].jwks()),
                                SCOPES)
        issue(issuer, [Participant(oin, {f"client-{oin}": self.keys[oin].jwks()})
                       for oin in sorted(POLYMORPHIC)], keys_dir)
        self.app = create_app(self.settings)
        self.app.config["TESTING"] = True
        self.client = self.app.test_client()
        self.tokens = {}
        self.bodies = []  # every body sent, to hash as an attacker would

    def headers(self, oin, **extra):
        if oin not in self.tokens:
            assertion = client_assertion(self.keys[oin], f"client-{oin}",
                                         f"{self.settings.issuer}/oauth/token")
            answer = self.client.post("/oauth/token", data=token_form(assertion))
            assert answer.status_code == 200, answer.json
            self.tokens[oin] = answer.json["access_token"]
        return {"Authorization": f"Bearer {self.tokens[oin]}", **extra}

    def post(self, oin, path, body):
        self.bodies.append(body)
        headers = self.headers(oin, **{"Idempotency-Key": uuid.uuid4().hex})
        return self.client.post(path, json=body, headers=headers)

    def send(self, sender, recipient, message_type, payload, subject):
        body = {"message_type": message_type, "recipient": recipient, "subject": subject,
                "payload": payload}
        response = self.post(sender, "/api/v1/exchanges", body)
        assert response.status_code == 202, response.json
        return response.json

    def inbox(self, oin):
        response = self.client.get("/api/v1/inbox", headers=self.headers(oin))
        assert response.status_code == 200, response.json
        return response.json["items"]

    def close(self):
        self.app.extensions["gateway"].db.dispose()
        self.db.dispose()


@pytest.fixture
def traffic(sqlite_url, tmp_path, issuer):
    """Real traffic about ``ex.BSN`` in both modes; returns the partners and what they sent."""
    keys_dir = tmp_path / "keys"
    KeyStore(keys_dir, allow_generate=True)
    partners = Partners(sqlite_url, keys_dir, issuer)
    subject = pep.polymorphic_subject
    # polymorphic: an absence report to the SWV, a referral to the GGD under a consent, and
    # the GGD's reply by its own encrypted pseudonym
    partners.send(ex.SCHOOL, ex.SWV, "absence_report", ex.absence_report(TODAY),
                  subject(issuer, ex.BSN, ex.SCHOOL))
    consent = partners.post(ex.SCHOOL, "/api/v1/consents", {
        "subject": subject(issuer, ex.BSN, ex.SCHOOL), "date_of_birth": ex.born(TODAY, 10),
        "purpose": "mazl", "parties": [ex.SCHOOL, ex.GGD], "granted_by": [{"role": "parent"}],
        "valid_from": (TODAY - timedelta(days=1)).isoformat(),
        "valid_until": (TODAY + timedelta(days=200)).isoformat(),
        "evidence": {"method": "written", "reference": "formulier 7"},
    })
    assert consent.status_code == 201, consent.json
    partners.send(ex.SCHOOL, ex.GGD, "sickness_absence_referral",
                  ex.sickness_absence_referral(TODAY), subject(issuer, ex.BSN, ex.SCHOOL))
    [received] = partners.inbox(ex.GGD)
    encrypted = received["subject"]["encrypted_pseudonym"]
    own = pep.open_pseudonym(issuer, encrypted, ex.GGD)
    reply = pep.reply_subject(issuer, own, received["id"], encrypted, ex.GGD)
    partners.send(ex.GGD, ex.SCHOOL, "jgz_advice",
                  dict(ex.jgz_advice(TODAY), in_reply_to=received["id"]), reply)
    # a polymorphic signal match between the school and the GGD
    for oin in (ex.SCHOOL, ex.GGD):
        response = partners.post(oin, "/api/v1/signals", {
            "subject": subject(issuer, ex.BSN, oin), "category": "attendance",
            "contact": ex.CONTACT})
        assert response.status_code == 201, response.json
    # by BSN: an absence report to the leerplicht office
    partners.send(ex.SCHOOL, ex.LEERPLICHT, "absence_report", ex.absence_report(TODAY),
                  {"bsn": ex.BSN})
    yield partners
    partners.close()


def stored_values(db: Database) -> list[tuple[str, bytes]]:
    """Every non-null column value of every row of every table, as ``(table.column, bytes)``
    (text as UTF-8, JSON as its text)."""
    values = []
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(select(table)).mappings():
                for column, value in row.items():
                    if value is None:
                        continue
                    if isinstance(value, bytes | bytearray | memoryview):
                        value = bytes(value)
                    elif isinstance(value, dict | list):
                        value = json.dumps(value).encode()
                    else:
                        value = str(value).encode()
                    values.append((f"{table.name}.{column}", value))
    return values


def atoms_of(values: list[tuple[str, bytes]]) -> dict[bytes, str]:
    """Each stored value and its decodings, mapped to the column it came from."""
    return {atom: where for where, value in values for atom in decodings(value)}


def decodings(value: bytes) -> set[bytes]:
    """The value itself and what it decodes to as hex or base64 (either alphabet)."""
    found = {value}
    text = value.strip().rstrip(b"=")
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            found.add(decode(text + b"=" * (-len(text) % 4)))
        except (ValueError, binascii.Error):
            pass
    try:
        found.add(bytes.fromhex(value.decode("ascii")))
    except (ValueError, UnicodeDecodeError):
        pass
    return found


def body_hashes(bodies: list[dict]) -> set[bytes]:
    """SHA-256 of each body in the usual canonical spellings, raw and hex."""
    found = set()
    for body in bodies:
        for text in (json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
                     json.dumps(body, sort_keys=True, separators=(",", ":")),
                     json.dumps(body, sort_keys=True), json.dumps(body)):
            digest = hashlib.sha256(text.encode())
            found |= {digest.digest(), digest.hexdigest().encode()}
    return found


def unkeyed_forms(bsn: str, link_secret: bytes) -> set[bytes]:
    """What a partner computes from a guessed BSN without any key of the gateway."""
    element = bsn_element(Bsn(bsn))
    tag = link_tag(element, link_secret)
    forms = {bsn.encode(), element, tag}
    for value in (bsn.encode(), element, tag):
        forms |= {hashlib.sha256(value).digest(), hashlib.sha256(value).hexdigest().encode()}
    return forms


def candidate_bsns(right: str, count: int) -> list[str]:
    candidates, number = [right], 100_000_000
    while len(candidates) < count:
        number += 1
        text = f"{number:09d}"
        if text != right and is_valid_bsn(text):
            candidates.append(text)
    return candidates


def test_no_stored_value_is_an_unkeyed_function_of_the_child(traffic, issuer):
    values = stored_values(traffic.db)
    atoms = atoms_of(values)
    link = issuer.secrets()["link"]
    raw_tag = link_tag(bsn_element(Bsn(ex.BSN)), link)
    assert raw_tag in unkeyed_forms(ex.BSN, link)  # the attacker's generator makes the tag
    found = {f"{atoms[a]}: unkeyed function of the BSN"
             for a in atoms.keys() & unkeyed_forms(ex.BSN, link)}
    found |= {f"{atoms[a]}: plain hash of a body" for a in atoms.keys() & body_hashes(traffic.bodies)}
    found |= {f"{where}: holds the raw tag or the BSN"
              for where, value in values if raw_tag in value or ex.BSN.encode() in value}
    # inside a longer text too (e.g. a stored JSON copy of a polymorphic subject): the tag's
    # hex, its base64 in either alphabet (the first 42 characters do not depend on what
    # follows it), and every subject string that was sent
    spelled = {raw_tag.hex().encode(), base64.b64encode(raw_tag)[:42],
               base64.urlsafe_b64encode(raw_tag)[:42]}
    spelled |= {text.encode() for body in traffic.bodies for text in body["subject"].values()
                if len(text) > 40}
    assert len(spelled) > 3  # the polymorphic subjects were sent
    found |= {f"{where}: spells out the tag or a sent subject"
              for where, value in values for form in spelled if form in value}
    assert sorted(found) == []


def test_trying_every_bsn_with_a_partners_secrets_finds_nothing(traffic, issuer):
    """The SWV's key share and the link secret against 10,000 valid BSNs, the right one too."""
    atoms = atoms_of(stored_values(traffic.db))
    share = issuer.key_share(organisation_domain(ex.SWV))
    opened = set()
    for value in atoms:
        if len(value) == 96:  # an ElGamal ciphertext: what the SWV's key opens it to
            try:
                opened.add(decrypt(ElGamal.from_bytes(value), share.secret_key))
            except Exception:  # noqa: BLE001, S112 - not a ciphertext under this key
                continue
    link = issuer.secrets()["link"]
    candidates = candidate_bsns(ex.BSN, TRIES)
    assert len(set(candidates)) == TRIES and ex.BSN in candidates
    for bsn in candidates:
        forms = unkeyed_forms(bsn, link)
        assert sorted({atoms[a] for a in forms & atoms.keys()}) == [], "a guess matches"
        assert not forms & opened, "a guessed BSN matches a value the partner's key opens"
