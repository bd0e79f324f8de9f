"""The forwarded client certificate counts only from trusted proxy addresses."""

import pytest

from certs import create_development_ca, issue_organisation_certificate, x5t_s256
from gateway.config import Settings
from gateway.oauth.certificates import forwarded_certificate, from_trusted_proxy
from tests.oauth_helpers import cert_header


@pytest.fixture(scope="module")
def certificate():
    return issue_organisation_certificate(create_development_ca(), "00000001001234567000", "OBS")[1]


def settings(proxies: str) -> Settings:
    return Settings.from_env({"GATEWAY_TRUSTED_PROXIES": proxies})


@pytest.mark.parametrize(
    "proxies, address, trusted",
    [
        ("", "127.0.0.1", False),
        ("127.0.0.1/32", "127.0.0.1", True),
        ("127.0.0.1/32", "127.0.0.2", False),
        ("10.0.0.0/8", "10.1.2.3", True),
        ("10.0.0.0/8", "::ffff:10.1.2.3", True),
        ("10.0.0.0/8", "fe80::1%eth0", False),
        ("fd00::/8", "fd00::5", True),
        ("127.0.0.1/32", None, False),
        ("127.0.0.1/32", "not-an-address", False),
    ],
)
def test_trusted_proxy(proxies, address, trusted):
    assert from_trusted_proxy(address, settings(proxies)) is trusted


def test_header_is_ignored_from_an_untrusted_address(certificate):
    headers = {"X-Client-Cert": cert_header(certificate)}
    assert forwarded_certificate("192.0.2.1", headers, settings("127.0.0.1/32")) is None
    found = forwarded_certificate("127.0.0.1", headers, settings("127.0.0.1/32"))
    assert x5t_s256(found) == x5t_s256(certificate)


def test_configured_header_name_and_garbage(certificate):
    custom = Settings.from_env(
        {"GATEWAY_TRUSTED_PROXIES": "127.0.0.1/32", "GATEWAY_CLIENT_CERT_HEADER": "Ssl-Client"}
    )
    assert forwarded_certificate("127.0.0.1", {"X-Client-Cert": cert_header(certificate)}, custom) is None
    assert forwarded_certificate("127.0.0.1", {"Ssl-Client": cert_header(certificate)}, custom)
    assert forwarded_certificate("127.0.0.1", {"Ssl-Client": "garbage"}, custom) is None
