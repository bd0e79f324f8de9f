"""The scope rule of the client credentials grant (API.md section 2)."""

import pytest
from authlib.oauth2.rfc6749 import InvalidScopeError

from gateway.oauth.clients import ClientRecord
from gateway.oauth.grants import granted_scopes

CLIENT = ClientRecord(
    "sis", "private_key_jwt", None, None, None,
    ("exchange:send", "exchange:receive", "consent:read"),
    1, "00000001001234567000", "school", "OBS", "active",
)


@pytest.mark.parametrize(
    "requested, granted",
    [
        (None, ("exchange:send", "exchange:receive", "consent:read")),
        ("exchange:send", ("exchange:send",)),
        ("consent:read exchange:send", ("exchange:send", "consent:read")),
        ("exchange:send  exchange:send", ("exchange:send",)),
    ],
)
def test_granted(requested, granted):
    assert granted_scopes(requested, CLIENT) == granted


@pytest.mark.parametrize(
    "requested",
    ["", " ", "audit:read", "exchange:send audit:read", "reidentify:approve", "EXCHANGE:SEND"],
)
def test_refused(requested):
    with pytest.raises(InvalidScopeError):
        granted_scopes(requested, CLIENT)


def test_client_hooks():
    assert CLIENT.check_grant_type("client_credentials")
    assert not CLIENT.check_grant_type("authorization_code")
    assert CLIENT.check_endpoint_auth_method("private_key_jwt", "token")
    assert not CLIENT.check_endpoint_auth_method("client_secret_basic", "token")
