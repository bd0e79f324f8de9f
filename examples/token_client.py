"""Example partner client: get an access token with private_key_jwt and call the gateway.

Uses authlib's requests integration (``OAuth2Session``), which signs the client assertion,
fetches the token, sends it as ``Authorization: Bearer`` and fetches a new one when it
expires (client credentials have no refresh token).

    python examples/token_client.py \\
        --base-url http://127.0.0.1:8000 \\
        --client-id regenboog-sis \\
        --key instance/demo/regenboog-sis.private.jwk.json \\
        --path /api/v1/me

The key file is the client's private JWK (``gateway demo keys`` writes them for the demo
organisations); its public half must be registered for the client (bootstrap ``jwks`` or
``jwks_file``). See examples/README.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT, private_key_jwt_sign
from joserfc.jwk import JWKRegistry

ASSERTION_LIFETIME_SECONDS = 120  # the gateway refuses assertions valid for more than 300 s
TIMEOUT_SECONDS = 10


class GatewayPrivateKeyJWT(PrivateKeyJWT):
    """authlib's ``private_key_jwt`` with a short-lived assertion and the key's ``kid``.

    authlib signs assertions valid for an hour by default, which the gateway refuses
    (``exp`` at most five minutes ahead). Each call makes a fresh ``jti``: the gateway accepts
    every assertion once only.
    """

    def sign(self, auth, token_endpoint):
        key = auth.client_secret
        return private_key_jwt_sign(
            key,
            client_id=auth.client_id,
            token_endpoint=token_endpoint,
            alg=self.alg,
            header={"kid": key.kid} if key.kid else None,
            expires_in=ASSERTION_LIFETIME_SECONDS,
        )


def load_private_key(path: Path):
    """The client's private JWK (EC P-256 for ES256, RSA for RS256/PS256, OKP for EdDSA)."""
    data = json.loads(path.read_text())
    if "d" not in data:
        raise SystemExit(f"{path} holds no private key")
    return JWKRegistry.import_key(data)


def algorithm_for(key) -> str:
    if key.alg:
        return key.alg
    return {"EC": "ES256", "RSA": "PS256", "OKP": "EdDSA"}[key.key_type]


def session_for(base_url: str, client_id: str, key, scope: str | None) -> OAuth2Session:
    """An OAuth2Session that authenticates with ``key`` and renews its token by itself."""
    token_endpoint = f"{base_url}/oauth/token"
    session = OAuth2Session(
        client_id,
        key,
        token_endpoint_auth_method=GatewayPrivateKeyJWT(token_endpoint, alg=algorithm_for(key)),
        scope=scope,
        token_endpoint=token_endpoint,
        grant_type="client_credentials",
        default_timeout=TIMEOUT_SECONDS,
    )
    session.fetch_token(token_endpoint, grant_type="client_credentials")
    return session


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--key", type=Path, required=True, help="the client's private JWK file")
    parser.add_argument("--scope", default=None, help="space-separated; default: all registered")
    parser.add_argument("--path", default="/api/v1/me", help="the API path to GET")
    args = parser.parse_args(argv)

    base_url = args.base_url.rstrip("/")
    session = session_for(base_url, args.client_id, load_private_key(args.key), args.scope)
    print(f"token for {args.client_id}, scope: {session.token['scope']}", file=sys.stderr)
    response = session.get(f"{base_url}{args.path}")
    print(f"GET {args.path} -> {response.status_code}", file=sys.stderr)
    print(json.dumps(response.json(), indent=2, ensure_ascii=False))
    return 0 if response.ok else 1


if __name__ == "__main__":
    sys.exit(main())
