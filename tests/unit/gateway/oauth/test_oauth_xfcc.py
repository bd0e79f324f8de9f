"""``X-Forwarded-Client-Cert`` as Envoy Gateway sets it (``SanitizeSet``, ``Cert``): the
certificate counts only as the single element a terminator writes for its own client."""

from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives import serialization

from certs import create_development_ca, issue_organisation_certificate, x5t_s256
from gateway.config import Settings
from gateway.oauth.certificates import forwarded_certificate, xfcc_certificate

PROXY = "10.244.250.7"


@pytest.fixture(scope="module")
def certs():
    ca = create_development_ca()
    return [
        issue_organisation_certificate(ca, oin, name)[1]
        for oin, name in (("00000001001234567000", "OBS"), ("00000001002345678000", "SWV"))
    ]


def encoded(certificate) -> str:
    return quote(certificate.public_bytes(serialization.Encoding.PEM).decode(), safe="")


def settings() -> Settings:
    return Settings.from_env(
        {
            "GATEWAY_TRUSTED_PROXIES": "10.244.250.0/26",
            "GATEWAY_CLIENT_CERT_HEADER": "X-Forwarded-Client-Cert",
        }
    )


def found(value: str):
    return forwarded_certificate(PROXY, {"X-Forwarded-Client-Cert": value}, settings())


def test_the_cert_field_of_envoys_single_element_is_the_client(certs):
    value = f'Hash=0123abcd;Cert="{encoded(certs[0])}";Subject="CN=OBS,O=School; Groningen"'
    assert x5t_s256(found(value)) == x5t_s256(certs[0])


def test_an_unquoted_cert_field_is_read_too(certs):
    assert x5t_s256(found(f"Cert={encoded(certs[0])}")) == x5t_s256(certs[0])


@pytest.mark.parametrize(
    "shape",
    [
        # appended to a header that came from outside: which element is the client?
        lambda a, b: f'Cert="{a}",Cert="{b}"',
        lambda a, b: f'Hash=1;Cert="{a}",By=x;Hash=2',
        # two Cert fields in one element
        lambda a, b: f'Cert="{a}";Cert="{b}"',
        # no Cert at all (only a hash, as without certDetailsToAdd: [Cert])
        lambda a, b: "Hash=0123abcd",
        # an open quote
        lambda a, b: f'Cert="{a}',
        lambda a, b: 'Cert=""',
        lambda a, b: "garbage",
    ],
    ids=["two-elements", "appended-element", "two-certs", "hash-only", "open-quote", "empty",
         "garbage"],
)
def test_anything_but_one_certificate_counts_as_none(certs, shape):
    value = shape(encoded(certs[0]), encoded(certs[1]))
    assert found(value) is None


def test_quotes_inside_a_quoted_subject_do_not_split(certs):
    value = f'Subject="CN=\\"a,b\\";O=x";Cert="{encoded(certs[1])}"'
    assert xfcc_certificate(value) == encoded(certs[1])


def test_the_header_from_an_untrusted_address_is_ignored(certs):
    value = f'Cert="{encoded(certs[0])}"'
    headers = {"X-Forwarded-Client-Cert": value}
    assert forwarded_certificate("10.1.2.3", headers, settings()) is None
