"""Fuzz the client-assertion parser: ``AssertionVerifier.read`` and ``.verify`` (private_key_jwt).

The input is the ``client_assertion`` form field (UTF-8; invalid bytes become lone surrogates).
The seed corpus holds genuine assertions signed with the test keys below (ES256 and EdDSA), valid
at the fixed clock, so the fuzzer starts from strings that verify and mutates them.

Checks: ``read`` returns an ``UnverifiedAssertion`` or raises ``Refused`` (never a
``RecursionError``, ``binascii.Error``, ``TypeError``...: at ``/oauth/token`` any of those is a
500 for an unauthenticated caller); ``verify`` with the client's registered JWKS returns a
``VerifiedAssertion`` or raises ``Refused``; what verifies names the registered client
(``iss`` = ``sub``), one allowed audience, an allowed algorithm and a ``jti``, and its
payload is exactly the one that was signed.
"""

from __future__ import annotations

import json

from harness import FuzzTarget, instrumented, main

with instrumented("gateway"):
    from gateway.oauth.assertions import ALLOWED_ALGORITHMS, AssertionVerifier, _strict_object
    from gateway.oauth.errors import Refused

# Fuzzing-only keys, public on purpose: the seed assertions are signed with them.
PRIVATE_KEYS = [
    {"crv": "P-256", "x": "6vdyUQ2xJWfoxz5KeIPorCuVilzcFFlo2paNAmLyMFE",
     "y": "9mcYleZhPbejKOrldz-3Qc3yrNo6bSrZ6PQ1xz85ti0",
     "d": "AEYi3yuG8yR6QGK4NpZxvC0bZ3gdEE4SEDVBL6fLl7g", "kid": "fuzz-ec", "alg": "ES256",
     "kty": "EC"},
    {"crv": "Ed25519", "x": "JL0iP6ODeX4Ar_K3PDdnfqvmLwtKm-TZbI0MvkRSuAY",
     "d": "32u7OywcTH4Rsku-QgcH8K3aO83GPBvZWQfYj-XBl60", "kid": "fuzz-ed", "kty": "OKP"},
]
JWKS = {"keys": [{k: v for k, v in key.items() if k != "d"} for key in PRIVATE_KEYS]}
CLIENT_ID = "fuzz-client"
ISSUER = "https://gateway.example.nl"
AUDIENCES = frozenset({ISSUER, f"{ISSUER}/oauth/token"})
NOW = 1_800_000_000
VERIFIER = AssertionVerifier(clock=lambda: NOW)


def check(data: bytes) -> None:
    token = data.decode("utf-8", "surrogateescape")
    unverified = VERIFIER.read(token)
    assert unverified.header["alg"] in ALLOWED_ALGORITHMS
    verified = VERIFIER.verify(unverified, JWKS, AUDIENCES)
    claims = unverified.claims
    assert verified.client_id == claims["sub"] == claims["iss"] == CLIENT_ID, "wrong client"
    assert claims["aud"] in AUDIENCES and verified.jti == claims["jti"] and verified.jti
    assert verified.keep_until >= NOW
    header_segment, payload_segment, _ = token.split(".")
    assert _strict_object(payload_segment) == claims


def seed_inputs() -> list[bytes]:
    """Genuine assertions (used to write the seed corpus)."""
    from joserfc import jwt
    from joserfc.jwk import JWKRegistry

    inputs = []
    for index, key_data in enumerate(PRIVATE_KEYS):
        key = JWKRegistry.import_key(key_data)
        alg = "ES256" if key_data["kty"] == "EC" else "EdDSA"
        for audience in sorted(AUDIENCES):
            claims = {"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": audience, "jti": f"seed-{index}",
                      "iat": NOW - 5, "nbf": NOW - 5, "exp": NOW + 120}
            token = jwt.encode({"alg": alg, "kid": key_data["kid"], "typ": "JWT"}, claims, key,
                               algorithms=[alg])
            inputs.append(token.encode("ascii"))
    inputs.append(json.dumps({"not": "a jwt"}).encode())
    return inputs


TARGET = FuzzTarget("assertion", check, expected=(Refused,), max_len=8192 + 64)

if __name__ == "__main__":
    main(TARGET)
