"""JWT access tokens (RFC 9068): issuing with the current gateway key, verifying strictly.

Verification does what authlib's RFC 9068 validator leaves out (issue 3, "Known pitfalls"):
``typ`` must be ``at+jwt`` (RFC 9068 section 4 allows ``application/at+jwt`` too), the
algorithm is pinned to what the gateway signs with, the ``kid`` must name an active gateway
key (never a key carried in the token), and ``crit``/key headers are refused. An unknown
``kid`` makes the key store look at its directory again, so a key added by
``gateway keys rotate`` in another process is trusted without a restart.

A token's signature is checked once per process: the claims of a token whose ES256 signature
verified are kept (bounded, by the exact token text) with the key object that verified them,
and a later request with the same token skips the signature (0.5-0.8 ms of a send, issue 23)
only while that key is still an active gateway key, so retiring a key still stops what it
signed at once. The time claims are checked on every request all the same, and the token row
is still read on every request (:func:`gateway.oauth.protect.identify`): revocation and
suspension take effect at once (API.md section 2); nothing about them is cached.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from joserfc import jws, jwt
from joserfc.errors import JoseError

from ..keys import KeyStore
from .clients import ClientRecord
from .errors import Refused
from .store import OAuthStore

TOKEN_TYPE = "at+jwt"  # noqa: S105 - a media type
ACCEPTED_TYPES = ("at+jwt", "application/at+jwt")
SIGNING_ALGORITHMS = ("ES256",)
LIFETIME_SECONDS = 300
SKEW_SECONDS = 60
MAX_TOKEN_LENGTH = 4096
FORBIDDEN_HEADERS = ("jwk", "jku", "x5u", "x5c", "crit", "b64")
REQUIRED_STRING_CLAIMS = ("jti", "sub", "client_id", "org", "org_type", "scope")
_REGISTRY = jws.JWSRegistry(algorithms=list(SIGNING_ALGORITHMS))
# tokens whose signature this process verified (a token lives 300 s; a busy partner holds one
# or a few at a time): beyond this the oldest entry makes room
VERIFIED_CACHE_SIZE = 4096


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    jti: str
    scope: str
    kid: str

    def response(self) -> dict:
        """The RFC 6749 section 5.1 body."""
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": LIFETIME_SECONDS,
            "scope": self.scope,
        }


def _string(claims: dict, name: str) -> bool:
    return isinstance(claims.get(name), str) and bool(claims[name])


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class TokenService:
    """Issues and verifies access tokens; ``clock`` returns Unix seconds."""

    def __init__(
        self,
        keys: KeyStore,
        store: OAuthStore,
        issuer: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keys = keys
        self.store = store
        self.issuer = issuer
        self.clock = clock
        # token text -> (the SigningKey that verified it, its claims)
        self._verified: dict[str, tuple[object, dict]] = {}
        self._verified_lock = threading.Lock()

    def issue(
        self, client: ClientRecord, scopes: tuple[str, ...], method: str, x5t: str | None
    ) -> IssuedToken:
        """Sign a token for ``client`` with the current key and record its ``jti``."""
        self.keys.refresh_signing()
        key = self.keys.current_signing_key
        now = int(self.clock())
        jti = str(uuid.uuid4())
        scope = " ".join(scopes)
        claims = {
            "iss": self.issuer,
            "sub": client.client_id,
            "aud": self.issuer,
            "client_id": client.client_id,
            "org": client.org_oin,
            "org_type": client.org_type,
            "scope": scope,
            "jti": jti,
            "iat": now,
            "exp": now + LIFETIME_SECONDS,
        }
        if x5t:
            claims["cnf"] = {"x5t#S256": x5t}
        header = {"alg": key.alg, "typ": TOKEN_TYPE, "kid": key.kid}
        token = jwt.encode(header, claims, key.jwk, algorithms=[key.alg])
        self.store.record_token(
            jti=jti,
            client_id=client.client_id,
            auth_method=method,
            scope=scope,
            kid=key.kid,
            x5t_s256=x5t,
            issued_at=now,
            expires_at=now + LIFETIME_SECONDS,
        )
        return IssuedToken(token, jti, scope, key.kid)

    def read(self, token: object) -> dict:
        """The claims of a token this gateway signed with an active key (time not checked)."""
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_LENGTH:
            raise Refused("token_size")
        seen = self._verified.get(token)
        if seen is not None:
            key, claims = seen
            if self.keys.signing_key(key.kid) is key:
                return dict(claims)
        return self._read_and_verify(token)

    def _read_and_verify(self, token: str) -> dict:
        try:
            header = jws.extract_compact(token.encode("ascii")).headers()
        except (JoseError, ValueError, UnicodeEncodeError):
            raise Refused("token_malformed") from None
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in ACCEPTED_TYPES:
            raise Refused("wrong_typ")
        if header.get("alg") not in SIGNING_ALGORITHMS:
            raise Refused("algorithm_not_allowed")
        if any(name in header for name in FORBIDDEN_HEADERS):
            raise Refused("forbidden_header")
        kid = header.get("kid")
        key = self.keys.signing_key(kid) if isinstance(kid, str) else None
        if key is None or key.alg != header["alg"]:
            raise Refused("unknown_kid")
        try:
            payload = jws.deserialize_compact(token, key.jwk, [key.alg], _REGISTRY).payload
            claims = json.loads(payload)
        except (JoseError, ValueError, TypeError):
            raise Refused("bad_signature") from None
        if not isinstance(claims, dict):
            raise Refused("token_malformed")
        self._remember(token, key, claims)
        return dict(claims)

    def _remember(self, token: str, key, claims: dict) -> None:
        with self._verified_lock:
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                del self._verified[next(iter(self._verified))]
            self._verified[token] = (key, claims)

    def verify(self, token: object) -> dict:
        """:meth:`read`, then the claims a resource server must check (RFC 9068 section 4)."""
        claims = self.read(token)
        now = self.clock()
        if claims.get("iss") != self.issuer:
            raise Refused("wrong_issuer")
        if claims.get("aud") != self.issuer:
            raise Refused("wrong_audience")
        expires, issued = claims.get("exp"), claims.get("iat")
        if not _number(expires) or expires + SKEW_SECONDS <= now:
            raise Refused("expired")
        if not _number(issued) or issued > now + SKEW_SECONDS:
            raise Refused("iat_in_future")
        if "nbf" in claims and (not _number(claims["nbf"]) or claims["nbf"] > now + SKEW_SECONDS):
            raise Refused("nbf_in_future")
        if not all(_string(claims, name) for name in REQUIRED_STRING_CLAIMS):
            raise Refused("missing_claim")
        if claims["sub"] != claims["client_id"]:
            raise Refused("subject_mismatch")
        cnf = claims.get("cnf")
        if cnf is not None and not (isinstance(cnf, dict) and _string(cnf, "x5t#S256")):
            raise Refused("bad_cnf")
        return claims
