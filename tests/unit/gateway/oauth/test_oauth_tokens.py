"""``TokenService``: RFC 9068 access tokens issued, then refused for every malformed variant."""

import pytest
from joserfc import jws

from gateway.keys import KeyStore
from gateway.oauth import tokens as tokens_module
from gateway.oauth.clients import ClientRecord
from gateway.oauth.errors import Refused
from gateway.oauth.store import OAuthStore
from gateway.oauth.tokens import TokenService
from gateway.registry.service import ClientCredentials, OrganisationRegistry
from gateway.storage.database import Database
from tests.oauth_helpers import (
    decode_part,
    gateway_key,
    hmac_signed,
    make_client_key,
    public_pem,
    resign,
    unsigned,
)

ISSUER = "https://gateway.example.nl"
NOW = 1_800_000_000


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


OIN = "00000001001234567000"
SCOPES = ["exchange:send", "exchange:receive"]


@pytest.fixture
def keys_copy(tmp_path):
    return KeyStore(tmp_path / "keys", allow_generate=True)


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
def service(sqlite_url, keys_copy, clock):
    db = Database(sqlite_url)
    registry = OrganisationRegistry(db, production=False)
    registry.add_organisation(OIN, "OBS", "school")
    jwks = make_client_key().jwks()
    registry.add_client(OIN, "sis", ClientCredentials("private_key_jwt", jwks=jwks), SCOPES)
    yield TokenService(keys_copy, OAuthStore(db, clock), ISSUER, clock)
    db.dispose()


@pytest.fixture
def client_record(service) -> ClientRecord:
    return service.store.client("sis")


def reason(service, token) -> str:
    with pytest.raises(Refused) as refused:
        service.verify(token)
    return refused.value.reason


def test_issued_token_has_the_rfc_9068_shape(service, keys_copy, client_record):
    issued = service.issue(client_record, client_record.scopes, "private_key_jwt", None)
    header, claims = decode_part(issued.access_token, 0), decode_part(issued.access_token, 1)
    assert header == {"typ": "at+jwt", "alg": "ES256", "kid": keys_copy.current_signing_key.kid}
    assert claims == {
        "iss": ISSUER,
        "sub": "sis",
        "aud": ISSUER,
        "client_id": "sis",
        "org": "00000001001234567000",
        "org_type": "school",
        "scope": "exchange:send exchange:receive",
        "jti": issued.jti,
        "iat": NOW,
        "exp": NOW + 300,
    }
    assert service.verify(issued.access_token)["jti"] == issued.jti
    row = service.store.token(issued.jti)
    assert (row.client_id, row.expires_at, row.revoked, row.x5t_s256) == ("sis", NOW + 300, False, None)


def test_bound_token_carries_cnf(service, client_record):
    issued = service.issue(client_record, ("exchange:send",), "tls_client_auth", "abc_-")
    assert decode_part(issued.access_token, 1)["cnf"] == {"x5t#S256": "abc_-"}
    assert service.store.token(issued.jti).x5t_s256 == "abc_-"


def test_expiry_with_sixty_seconds_of_skew(service, clock, client_record):
    token = service.issue(client_record, client_record.scopes, "private_key_jwt", None).access_token
    clock.now = NOW + 359
    assert service.verify(token)["sub"] == "sis"
    clock.now = NOW + 360
    assert reason(service, token) == "expired"


def test_application_at_jwt_typ_is_accepted(service, keys_copy, client_record):
    token = service.issue(client_record, client_record.scopes, "private_key_jwt", None).access_token
    key = gateway_key(keys_copy.directory)
    assert service.verify(resign(token, key, header={"typ": "application/at+jwt"}))


@pytest.mark.parametrize(
    "header, expected",
    [
        ({"typ": None}, "wrong_typ"),
        ({"typ": "JWT"}, "wrong_typ"),
        ({"typ": "at+jwt+x"}, "wrong_typ"),
        ({"kid": None}, "unknown_kid"),
        ({"kid": "not-a-gateway-key"}, "unknown_kid"),
        ({"kid": 5}, "unknown_kid"),
        ({"crit": ["exp"]}, "forbidden_header"),
        ({"jku": "https://attacker.example/jwks"}, "forbidden_header"),
        ({"x5c": ["MIIB"]}, "forbidden_header"),
    ],
)
def test_header_rules(service, keys_copy, header, expected, client_record):
    token = service.issue(client_record, client_record.scopes, "private_key_jwt", None).access_token
    forged = resign(token, gateway_key(keys_copy.directory), header=header)
    assert reason(service, forged) == expected


@pytest.mark.parametrize(
    "claims, expected",
    [
        ({"iss": "https://evil.example"}, "wrong_issuer"),
        ({"aud": "https://evil.example"}, "wrong_audience"),
        ({"aud": [ISSUER]}, "wrong_audience"),
        ({"exp": None}, "expired"),
        ({"exp": NOW - 61}, "expired"),
        ({"iat": NOW + 61}, "iat_in_future"),
        ({"iat": None}, "iat_in_future"),
        ({"nbf": NOW + 61}, "nbf_in_future"),
        ({"jti": None}, "missing_claim"),
        ({"scope": 5}, "missing_claim"),
        ({"org": None}, "missing_claim"),
        ({"sub": "other"}, "subject_mismatch"),
        ({"cnf": "x"}, "bad_cnf"),
        ({"cnf": {"x5t": "sha1"}}, "bad_cnf"),
    ],
)
def test_claim_rules(service, keys_copy, claims, expected, client_record):
    token = service.issue(client_record, client_record.scopes, "private_key_jwt", None).access_token
    assert reason(service, resign(token, gateway_key(keys_copy.directory), **claims)) == expected


def test_alg_none_and_hmac_with_the_gateway_public_key(service, keys_copy, client_record):
    token = service.issue(client_record, client_record.scopes, "private_key_jwt", None).access_token
    header, claims = decode_part(token, 0), decode_part(token, 1)
    assert reason(service, unsigned({**header, "alg": "none"}, claims)) == "algorithm_not_allowed"
    pem = public_pem(keys_copy.current_signing_key.public_jwk())
    confused = hmac_signed({**header, "alg": "HS256"}, claims, pem)
    assert reason(service, confused) == "algorithm_not_allowed"


def test_signed_by_another_key_with_a_gateway_kid(service, keys_copy, client_record):
    token = service.issue(client_record, client_record.scopes, "private_key_jwt", None).access_token
    intruder = make_client_key("ES256", kid=keys_copy.current_signing_key.kid)
    assert reason(service, resign(token, intruder)) == "bad_signature"


@pytest.mark.parametrize("token", [None, "", "x" * 5000, "a.b.c", "é.b.c", "a.b"])
def test_malformed_tokens(service, token):
    with pytest.raises(Refused):
        service.verify(token)


def test_rotation_by_another_process_is_seen_without_reload(service, keys_copy, sqlite_url, client_record):
    old = service.issue(client_record, client_record.scopes, "private_key_jwt", None)
    other_process = KeyStore(keys_copy.directory, allow_generate=False)
    new_key = other_process.add_signing_key()
    fresh = service.issue(client_record, client_record.scopes, "private_key_jwt", None)
    assert decode_part(fresh.access_token, 0)["kid"] == new_key.kid
    assert service.verify(old.access_token)["jti"] == old.jti
    assert service.verify(fresh.access_token)["jti"] == fresh.jti
    # a process that loaded before the rotation verifies a token signed with the new kid
    before = KeyStore(keys_copy.directory, allow_generate=False)
    other_process.add_signing_key()
    newest = TokenService(other_process, service.store, ISSUER, service.clock)
    token = newest.issue(client_record, client_record.scopes, "private_key_jwt", None).access_token
    assert TokenService(before, service.store, ISSUER, service.clock).verify(token)


def test_retired_key_is_refused_at_once(service, keys_copy, client_record):
    old = service.issue(client_record, client_record.scopes, "private_key_jwt", None)
    operator = KeyStore(keys_copy.directory, allow_generate=False)
    operator.add_signing_key()
    operator.retire_signing_key(old.kid)
    assert reason(service, old.access_token) == "unknown_kid"


# The verified-signature cache (issue 23): a token's ES256 signature is checked once per
# process and nothing else is remembered. Time claims are checked on every call, a retired key
# stops its tokens at once, a changed byte is a different token.


@pytest.fixture
def signature_checks(monkeypatch):
    """Counts the ES256 verifications TokenService makes (joserfc's deserialize_compact)."""
    calls = []
    real = jws.deserialize_compact

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(tokens_module.jws, "deserialize_compact", counting)
    return calls


def issue(service, client_record) -> str:
    return service.issue(client_record, client_record.scopes, "private_key_jwt", None).access_token


def test_the_signature_of_a_token_is_verified_once(service, client_record, signature_checks):
    token = issue(service, client_record)
    first = service.verify(token)
    second = service.verify(token)
    assert first == second and first["sub"] == "sis"
    assert signature_checks == [token]


def test_a_cached_token_still_expires(service, clock, client_record):
    token = issue(service, client_record)
    assert service.verify(token)["sub"] == "sis"
    clock.now = NOW + 360  # exp (NOW + 300) plus the 60 s of skew
    assert reason(service, token) == "expired"


def test_a_cached_token_of_a_retired_key_is_refused_at_once(service, keys_copy, client_record):
    token = issue(service, client_record)
    old_kid = keys_copy.current_signing_key.kid
    assert service.verify(token)["sub"] == "sis"  # now in the cache
    operator = KeyStore(keys_copy.directory, allow_generate=False)  # another process
    operator.add_signing_key()
    operator.retire_signing_key(old_kid)
    assert reason(service, token) == "unknown_kid"


def test_a_changed_signature_is_not_served_from_the_cache(service, keys_copy, client_record):
    token = issue(service, client_record)
    assert service.verify(token)
    head, payload, signature = token.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    assert reason(service, f"{head}.{payload}.{flipped}") == "bad_signature"
    other = resign(token, gateway_key(keys_copy.directory), scope="exchange:receive")
    assert service.verify(other)["scope"] == "exchange:receive"  # its own entry, its own claims


def test_a_caller_changing_the_claims_does_not_change_the_cache(service, client_record):
    token = issue(service, client_record)
    claims = service.verify(token)
    claims["scope"] = "audit:read"
    assert service.verify(token)["scope"] == "exchange:send exchange:receive"


def test_the_cache_is_bounded(service, client_record, monkeypatch, signature_checks):
    monkeypatch.setattr(tokens_module, "VERIFIED_CACHE_SIZE", 2)
    first, second, third = (issue(service, client_record) for _ in range(3))
    for token in (first, second, third):
        service.verify(token)
    assert len(service._verified) == 2
    service.verify(first)  # pushed out by the third: verified again
    assert signature_checks == [first, second, third, first]
    with pytest.raises(Refused):
        service.verify("x" * 10)
