"""Verifying ``private_key_jwt`` client assertions (RFC 7523 section 3, RFC 7521 section 4.2).

Written against joserfc directly rather than authlib's ``JWTBearerClientAssertion``, because
that class skips the audience check when ``get_audiences`` is left at its default, accepts
``aud`` arrays, and has no algorithm allow-list (issue 3, "Known pitfalls"). Here every rule
of API.md section 2 is one explicit check: an algorithm allow-list (no ``none``, no HMAC, so
no key confusion with the client's public key), no keys or key URLs in the header (``jwk``,
``jku``, ``x5u``, ``x5c``: the key must come from the registration), no ``crit`` extensions,
``iss`` = ``sub`` = client_id, ``aud`` one string naming this server, ``exp`` at most five
minutes ahead, a ``jti``; 60 seconds of clock skew on ``exp``, ``nbf`` and ``iat`` alike.
"""

from __future__ import annotations

import base64
import json
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import JWKRegistry

from .errors import Refused

ALLOWED_ALGORITHMS = ("ES256", "PS256", "RS256", "EdDSA")
FORBIDDEN_HEADERS = ("jwk", "jku", "x5u", "x5c", "crit", "b64")
SKEW_SECONDS = 60
MAX_LIFETIME_SECONDS = 300
MAX_ASSERTION_LENGTH = 8 * 1024
MAX_JTI_LENGTH = 255
MIN_RSA_BITS = 2048
_KEY_TYPES = {
    "ES256": ("EC", ("P-256",)),
    "PS256": ("RSA", ()),
    "RS256": ("RSA", ()),
    "EdDSA": ("OKP", ("Ed25519", "Ed448")),
}
_REGISTRY = jws.JWSRegistry(algorithms=list(ALLOWED_ALGORITHMS))
# API.md section 2 names "EdDSA"; RFC 9864 prefers "Ed25519" but partners use what we publish.
warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=SecurityWarning)


@dataclass(frozen=True)
class UnverifiedAssertion:
    """The parts of an assertion read before its signature is checked (never trust them)."""

    token: str
    header: dict
    claims: dict

    @property
    def client_id(self) -> str:
        return self.claims["sub"]


@dataclass(frozen=True)
class VerifiedAssertion:
    """An assertion that passed; ``keep_until`` ends its replay window (``exp`` + skew)."""

    client_id: str
    jti: str
    keep_until: int


def _strict_object(segment: str) -> dict:
    """Decode one base64url JSON segment, refusing duplicate members (parser confusion)."""

    def no_duplicates(pairs: list[tuple[str, object]]) -> dict:
        keys = [key for key, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate member")
        return dict(pairs)

    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    value = json.loads(raw, object_pairs_hook=no_duplicates)
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return value


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class AssertionVerifier:
    """Reads and verifies client assertions; ``clock`` returns Unix seconds."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock

    def read(self, assertion: object) -> UnverifiedAssertion:
        """Parse without verifying, to learn which client's keys to verify with."""
        if not isinstance(assertion, str) or not 0 < len(assertion) <= MAX_ASSERTION_LENGTH:
            raise Refused("assertion_size")
        parts = assertion.split(".")
        if len(parts) != 3:
            raise Refused("assertion_malformed")
        try:
            header, claims = _strict_object(parts[0]), _strict_object(parts[1])
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise Refused("assertion_malformed") from None
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise Refused("algorithm_not_allowed")
        if any(name in header for name in FORBIDDEN_HEADERS):
            raise Refused("forbidden_header")
        if "kid" in header and not isinstance(header["kid"], str):
            raise Refused("assertion_malformed")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject or claims.get("iss") != subject:
            raise Refused("issuer_subject_mismatch")
        return UnverifiedAssertion(assertion, header, claims)

    def verify(
        self, assertion: UnverifiedAssertion, jwks: dict | None, audiences: frozenset[str]
    ) -> VerifiedAssertion:
        """Check the signature with the client's registered keys, then the claims."""
        self._check_signature(assertion, jwks)
        return self._check_claims(assertion.claims, audiences)

    def _check_signature(self, assertion: UnverifiedAssertion, jwks: dict | None) -> None:
        alg = assertion.header["alg"]
        for key in self._candidate_keys(jwks, alg, assertion.header.get("kid")):
            try:
                jws.deserialize_compact(assertion.token, key, [alg], _REGISTRY)
                return
            except (JoseError, ValueError, TypeError):
                continue
        raise Refused("bad_signature")

    @staticmethod
    def _candidate_keys(jwks: dict | None, alg: str, kid: str | None) -> list:
        """The client's keys that may verify ``alg``: matching kid, type, curve and use."""
        kty, curves = _KEY_TYPES[alg]
        keys = []
        for data in (jwks or {}).get("keys", []):
            if not isinstance(data, dict) or data.get("kty") != kty:
                continue
            if kid is not None and data.get("kid") != kid:
                continue
            if curves and data.get("crv") not in curves:
                continue
            if data.get("alg", alg) != alg or data.get("use", "sig") != "sig":
                continue
            if "key_ops" in data and "verify" not in data["key_ops"]:
                continue
            public = {k: v for k, v in data.items() if k not in ("d", "p", "q", "dp", "dq", "qi")}
            try:
                key = JWKRegistry.import_key(public)
            except (JoseError, ValueError, TypeError):
                continue
            if kty == "RSA" and key.raw_value.key_size < MIN_RSA_BITS:
                continue
            keys.append(key)
        return keys

    def _check_claims(self, claims: dict, audiences: frozenset[str]) -> VerifiedAssertion:
        now = self.clock()
        audience = claims.get("aud")
        if isinstance(audience, list):
            raise Refused("audience_array")
        if not isinstance(audience, str) or audience not in audiences:
            raise Refused("wrong_audience")
        expires = claims.get("exp")
        if not _number(expires):
            raise Refused("missing_exp")
        if expires + SKEW_SECONDS <= now:
            raise Refused("expired")
        if expires > now + MAX_LIFETIME_SECONDS + SKEW_SECONDS:
            raise Refused("exp_too_far_ahead")
        for name in ("nbf", "iat"):
            if name in claims and (not _number(claims[name]) or claims[name] > now + SKEW_SECONDS):
                raise Refused(f"{name}_in_future")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_LENGTH:
            raise Refused("missing_jti")
        return VerifiedAssertion(claims["sub"], jti, int(expires) + SKEW_SECONDS)
