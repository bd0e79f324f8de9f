"""Drill: the server's clock off by up to 60 s accepts, beyond refuses (API.md section 2).

A real gateway process; the skew is made on the client side, which is the same thing as seen
from the server: an assertion or token whose ``exp`` lies 50 s in the server's past, or whose
``iat``/``nbf`` lies 50 s in its future, is what a server 50 s ahead of (or behind) the
issuer's clock sees. Client assertions are signed with the client's registered key; access
tokens are re-signed with the gateway's own current signing key from its key directory (an
insider's copy, ``oauth_helpers.gateway_key``) keeping their ``jti`` (the server looks every
token up by it), so only the times differ from a real token.
At 50 s every one is accepted; at 70 s every one is refused (401, naming the reason class).
"""

from __future__ import annotations

import shutil
import time
import uuid

import pytest
import requests
from joserfc import jwt

from tests import exchange_helpers as ex
from tests import oauth_helpers as oh
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.partners import register_partners

WITHIN, BEYOND = 50, 70


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, keys_dir):
    instance = tmp_path_factory.mktemp("skew")
    shutil.copytree(keys_dir, instance / "keys")
    server = start_server(instance, instance / "keys")
    partners = register_partners(server, instance)
    yield server, partners
    stop_server(server.process)


def assertion(partner, iat: int, exp: int, nbf: int | None = None) -> str:
    claims = {"iss": partner.client_id, "sub": partner.client_id, "jti": uuid.uuid4().hex,
              "aud": f"{partner.base_url}/oauth/token", "iat": iat, "exp": exp}
    if nbf is not None:
        claims["nbf"] = nbf
    return jwt.encode({"alg": "ES256", "kid": partner.key.kid}, claims, partner.key)


def token_request(partner, client_assertion: str) -> requests.Response:
    return requests.post(f"{partner.base_url}/oauth/token", timeout=10, data=oh.token_form(
        client_assertion, scope="exchange:send"))


def send_with(partner, token: str) -> requests.Response:
    body = {"message_type": "absence_report", "recipient": ex.LEERPLICHT,
            "subject": {"bsn": ex.BSN}, "payload": ex.absence_report(ex.today())}
    return requests.post(f"{partner.base_url}/api/v1/exchanges", json=body, timeout=10,
                         headers={"Authorization": f"Bearer {token}",
                                  "Idempotency-Key": uuid.uuid4().hex})


def assertion_cases(skew: int) -> dict:
    now = int(time.time())
    return {
        # the server is ahead: the assertion ran out ``skew`` seconds ago by its clock
        "server ahead, exp past": (now - skew - 120, now - skew, None),
        # the server is behind: the assertion was made ``skew`` seconds in its future
        "server behind, iat future": (now + skew, now + skew + 120, None),
        "server behind, nbf future": (now, now + skew + 120, now + skew),
    }


@pytest.mark.parametrize("skew,accepted", [(WITHIN, True), (BEYOND, False)])
def test_client_assertions_under_skew(gateway, skew, accepted):
    _server, partners = gateway
    school = partners[ex.SCHOOL]
    for case, (iat, exp, nbf) in assertion_cases(skew).items():
        response = token_request(school, assertion(school, iat, exp, nbf))
        if accepted:
            assert response.status_code == 200, (case, response.text)
        else:
            assert response.status_code == 401, (case, response.text)
            assert response.json()["error"] == "invalid_client", case


@pytest.mark.parametrize("skew,accepted", [(WITHIN, True), (BEYOND, False)])
def test_access_tokens_under_skew(gateway, skew, accepted):
    server, partners = gateway
    school = partners[ex.SCHOOL]
    real = school.token()
    key = oh.gateway_key(server.env["GATEWAY_KEYS_DIR"])
    assert oh.decode_part(real, 0)["kid"] == key.kid
    now = int(time.time())
    cases = {
        "server ahead, exp past": {"iat": now - skew - 300, "exp": now - skew},
        "server behind, iat future": {"iat": now + skew, "exp": now + skew + 300},
        "server behind, nbf future": {"iat": now, "exp": now + 300, "nbf": now + skew},
    }
    # the re-signing itself is faithful: unchanged times are accepted
    assert send_with(school, oh.resign(real, key)).status_code == 202
    for case, claims in cases.items():
        response = send_with(school, oh.resign(real, key, **claims))
        if accepted:
            assert response.status_code == 202, (case, response.text)
        else:
            assert response.status_code == 401, (case, response.text)
            assert response.json()["code"] == "invalid_token", case
            assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
