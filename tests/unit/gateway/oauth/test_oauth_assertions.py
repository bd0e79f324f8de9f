"""``AssertionVerifier``: each rule of RFC 7523 / API.md section 2, by the check that refuses.

The verifier keeps the failed check in ``Refused.reason`` (never shown to clients), so these
tests can prove that each hostile assertion is refused for the reason it was built for.
"""

import pytest

from gateway.oauth.assertions import AssertionVerifier
from gateway.oauth.errors import Refused
from tests.oauth_helpers import (
    assertion_claims,
    b64,
    client_assertion,
    hmac_signed,
    make_client_key,
    public_pem,
    raw_signed,
    sign,
    unsigned,
)

NOW = 1_800_000_000
ISSUER = "https://gateway.example.nl"
TOKEN_URL = f"{ISSUER}/oauth/token"
AUDIENCES = frozenset({ISSUER, TOKEN_URL})


@pytest.fixture(scope="module")
def keys():
    return {alg: make_client_key(alg, kid=f"k-{alg}") for alg in ("ES256", "RS256", "PS256", "EdDSA")}


@pytest.fixture
def verifier():
    return AssertionVerifier(clock=lambda: NOW)


def verify(verifier, token, jwks):
    return verifier.verify(verifier.read(token), jwks, AUDIENCES)


def reason(verifier, token, jwks) -> str:
    with pytest.raises(Refused) as refused:
        verify(verifier, token, jwks)
    return refused.value.reason


@pytest.mark.parametrize("alg", ["ES256", "RS256", "PS256", "EdDSA"])
def test_each_allowed_algorithm_verifies(verifier, keys, alg):
    key = keys[alg]
    token = client_assertion(key, "sis", TOKEN_URL, now=NOW, jti="j-1")
    verified = verify(verifier, token, key.jwks())
    assert (verified.client_id, verified.jti) == ("sis", "j-1")
    assert verified.keep_until == NOW + 120 + 60


def test_issuer_as_audience_and_key_without_kid(verifier, keys):
    key = keys["ES256"]
    public = {k: v for k, v in key.public().items() if k != "kid"}
    token = sign(key, assertion_claims("sis", ISSUER, now=NOW), kid=None)
    assert verify(verifier, token, {"keys": [public]}).client_id == "sis"


def test_kid_selects_among_several_keys(verifier, keys):
    jwks = {"keys": [keys["RS256"].public(), keys["ES256"].public()]}
    token = client_assertion(keys["ES256"], "sis", TOKEN_URL, now=NOW)
    assert verify(verifier, token, jwks).client_id == "sis"


def test_signed_by_another_key_with_the_registered_kid(verifier, keys):
    intruder = make_client_key("ES256", kid=keys["ES256"].kid)
    token = client_assertion(intruder, "sis", TOKEN_URL, now=NOW)
    assert reason(verifier, token, keys["ES256"].jwks()) == "bad_signature"


def test_unknown_kid(verifier, keys):
    token = sign(keys["ES256"], assertion_claims("sis", TOKEN_URL, now=NOW), kid="other")
    assert reason(verifier, token, keys["ES256"].jwks()) == "bad_signature"


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "HS256", "HS512", "ES384", "RS512", ""])
def test_algorithms_outside_the_allow_list(verifier, keys, alg):
    token = unsigned({"alg": alg, "kid": "k-ES256"}, assertion_claims("sis", TOKEN_URL, now=NOW))
    assert reason(verifier, token, keys["ES256"].jwks()) == "algorithm_not_allowed"


def test_hmac_with_the_clients_public_key_key_confusion(verifier, keys):
    for alg in ("RS256", "ES256"):
        public = keys[alg].public()
        token = hmac_signed(
            {"alg": "HS256", "kid": public["kid"]},
            assertion_claims("sis", TOKEN_URL, now=NOW),
            public_pem(public),
        )
        assert reason(verifier, token, keys[alg].jwks()) == "algorithm_not_allowed"


def test_header_claims_an_algorithm_for_a_key_of_another_type(verifier, keys):
    rsa = keys["RS256"]
    token = sign(rsa, assertion_claims("sis", TOKEN_URL, now=NOW), alg="RS256")
    es_only = keys["ES256"].jwks()
    assert reason(verifier, token, es_only) == "bad_signature"


@pytest.mark.parametrize(
    "extra",
    [
        {"jwk": "ATTACKER"},
        {"jku": "https://attacker.example/jwks"},
        {"x5u": "https://attacker.example/cert.pem"},
        {"x5c": ["MIIB"]},
        {"crit": ["exp"]},
        {"crit": ["urn:example:unknown"], "urn:example:unknown": True},
        {"b64": False, "crit": ["b64"]},
    ],
)
def test_key_headers_and_crit_are_refused(verifier, keys, extra):
    key = keys["ES256"]
    if extra.get("jwk") == "ATTACKER":
        attacker = make_client_key("ES256", kid=key.kid)
        extra = {"jwk": attacker.public()}
        token = sign(attacker, assertion_claims("sis", TOKEN_URL, now=NOW), **extra)
    else:
        token = sign(key, assertion_claims("sis", TOKEN_URL, now=NOW), **extra)
    assert reason(verifier, token, key.jwks()) == "forbidden_header"


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"aud": "https://elsewhere.example/oauth/token"}, "wrong_audience"),
        ({"aud": f"{ISSUER}/oauth/introspect"}, "wrong_audience"),
        ({"aud": [TOKEN_URL]}, "audience_array"),
        ({"aud": [TOKEN_URL, ISSUER]}, "audience_array"),
        ({"aud": None}, "wrong_audience"),
        ({"exp": None}, "missing_exp"),
        ({"exp": "1800000100"}, "missing_exp"),
        ({"exp": True}, "missing_exp"),
        ({"exp": NOW - 61}, "expired"),
        ({"exp": NOW - 60}, "expired"),
        ({"exp": NOW + 361}, "exp_too_far_ahead"),
        ({"exp": NOW + 3600}, "exp_too_far_ahead"),
        ({"nbf": NOW + 61}, "nbf_in_future"),
        ({"iat": NOW + 61}, "iat_in_future"),
        ({"iat": "now"}, "iat_in_future"),
        ({"jti": None}, "missing_jti"),
        ({"jti": ""}, "missing_jti"),
        ({"jti": 7}, "missing_jti"),
        ({"jti": "x" * 256}, "missing_jti"),
    ],
)
def test_claim_rules(verifier, keys, changes, expected):
    key = keys["ES256"]
    claims = {**assertion_claims("sis", TOKEN_URL, now=NOW), **changes}
    token = sign(key, {k: v for k, v in claims.items() if v is not None})
    assert reason(verifier, token, key.jwks()) == expected


@pytest.mark.parametrize("changes", [{"exp": NOW - 59}, {"exp": NOW + 360}, {"nbf": NOW + 60}])
def test_sixty_seconds_of_skew_at_the_edges(verifier, keys, changes):
    key = keys["ES256"]
    claims = {**assertion_claims("sis", ISSUER, now=NOW), **changes}
    assert verify(verifier, sign(key, claims), key.jwks()).client_id == "sis"


@pytest.mark.parametrize(
    "changes",
    [{"iss": "other"}, {"sub": "other"}, {"iss": None}, {"sub": None}, {"sub": 5}],
)
def test_issuer_must_equal_subject(verifier, keys, changes):
    claims = {**assertion_claims("sis", TOKEN_URL, now=NOW), **changes}
    token = sign(keys["ES256"], {k: v for k, v in claims.items() if v is not None})
    with pytest.raises(Refused) as refused:
        verifier.read(token)
    assert refused.value.reason == "issuer_subject_mismatch"


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "a.b",
        "a.b.c.d",
        "x" * 9000,
        "!!!.???.sig",
        f"{b64(b'[1]')}.{b64({'sub': 'sis'})}.sig",
        # duplicate members: parsers disagree on which wins, so neither may
        '{"alg":"ES256","alg":"none"}',
    ],
)
def test_malformed_assertions(verifier, token):
    if token and token.startswith("{"):
        token = f"{b64(token.encode())}.{b64({'iss': 's', 'sub': 's'})}.sig"
    with pytest.raises(Refused):
        verifier.read(token)


def test_tampered_claims_fail_the_signature(verifier, keys):
    key = keys["ES256"]
    token = client_assertion(key, "sis", TOKEN_URL, now=NOW)
    header, _, signature = token.split(".")
    forged = f"{header}.{b64(assertion_claims('sis', ISSUER, now=NOW))}.{signature}"
    assert reason(verifier, forged, key.jwks()) == "bad_signature"


def test_a_private_key_in_the_registration_is_used_as_public_only(verifier, keys):
    key = keys["ES256"]
    private = key.key.as_dict(private=True)
    token = client_assertion(key, "sis", TOKEN_URL, now=NOW)
    assert verify(verifier, token, {"keys": [private]}).client_id == "sis"


def test_registered_key_with_other_use_or_alg_is_not_used(verifier, keys):
    key = keys["ES256"]
    token = client_assertion(key, "sis", TOKEN_URL, now=NOW)
    for extra in ({"use": "enc"}, {"alg": "ES384"}, {"key_ops": ["encrypt"]}):
        assert reason(verifier, token, {"keys": [{**key.public(), **extra}]}) == "bad_signature"


def test_small_rsa_keys_are_not_used(verifier):
    from joserfc.jwk import RSAKey

    from tests.oauth_helpers import ClientKey

    small = ClientKey("RS256", RSAKey.generate_key(1024, parameters={"kid": "small"}, private=True))
    token = raw_signed(
        {"alg": "RS256", "kid": "small"}, assertion_claims("sis", TOKEN_URL, now=NOW), small
    )
    assert reason(verifier, token, small.jwks()) == "bad_signature"
