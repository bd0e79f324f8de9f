"""OAuth 2.0 client credentials with ``private_key_jwt`` (RFC 7523), with a cached token.

ES256 assertions valid for two minutes with a fresh ``jti`` each (the gateway accepts every
assertion once); the token is renewed shortly before it expires, or at once after
:meth:`TokenSource.forget` (the gateway said ``invalid_token``: expired early or revoked).
"""

from __future__ import annotations

import time
import uuid

import requests
from joserfc import jwt

from thuiszitterspact_client.errors import GatewayError
from thuiszitterspact_client.responses import error_of, json_body

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME_SECONDS = 120  # the gateway refuses assertions valid for more than 300 s
TOKEN_MARGIN_SECONDS = 30  # renew this long before the token expires: clocks and latency
DEFAULT_EXPIRES_IN = 300


class TokenSource:
    """Access tokens of one client, fetched with its signing key and cached."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        key,
        session: requests.Session,
        timeout: float,
        scope: str | None = None,
    ) -> None:
        self.base_url = base_url
        self.client_id = client_id
        self.scope = scope
        self._key = key
        self._session = session
        self._timeout = timeout
        self._token: str | None = None
        self._token_renew_at = 0.0

    def forget(self) -> None:
        """Drop the cached token; the next call fetches a new one."""
        self._token = None

    def _assertion(self) -> str:
        """A client assertion (RFC 7523) for the token endpoint, usable once."""
        now = int(time.time())
        header = {"alg": "ES256"}
        if self._key.kid:
            header["kid"] = self._key.kid
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": f"{self.base_url}/oauth/token",
            "jti": uuid.uuid4().hex,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECONDS,
        }
        return jwt.encode(header, claims, self._key, algorithms=["ES256"])

    def access_token(self) -> str:
        """The cached access token, or a new one when it is (nearly) expired."""
        if self._token is None or time.monotonic() >= self._token_renew_at:
            self._fetch_token()
        return self._token  # type: ignore[return-value]

    def _fetch_token(self) -> None:
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self._assertion(),
        }
        if self.scope:
            form["scope"] = self.scope
        requested_at = time.monotonic()  # the token's lifetime starts before the answer arrives
        response = self._session.post(
            f"{self.base_url}/oauth/token",
            data=form,
            headers={"Accept": "application/json"},
            timeout=self._timeout,
        )
        if response.status_code != 200:
            raise error_of(response)
        body = json_body(response)
        if not isinstance(body, dict):
            body = {}
        token, expires_in = body.get("access_token"), body.get("expires_in", DEFAULT_EXPIRES_IN)
        if type(token) is not str or type(expires_in) is not int:
            raise GatewayError(response.status_code, "invalid_response", "Not a token answer.")
        self._token = token
        self._token_renew_at = requested_at + max(0, expires_in - TOKEN_MARGIN_SECONDS)
