"""Thumbprints (RFC 8705 x5t#S256) and parsing forwarded client certificates."""

import base64
import hashlib
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given
from hypothesis import strategies as st

from certs import (
    MAX_FORWARDED_CERTIFICATE_SIZE,
    InvalidCertificateError,
    create_development_ca,
    issue_organisation_certificate,
    load_pem_certificate,
    parse_forwarded_certificate,
    sha256_thumbprint_hex,
    x5t_s256,
)

NOW = datetime(2025, 6, 1, tzinfo=UTC)
OIN = "00000009876543210000"


@pytest.fixture(scope="module")
def ca():
    return create_development_ca(now=NOW)


@pytest.fixture(scope="module")
def issued(ca):
    return issue_organisation_certificate(ca, OIN, "Samenwerkingsverband Test", now=NOW)


@pytest.fixture(scope="module")
def cert(issued):
    return issued[1]


@pytest.fixture(scope="module")
def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def test_sha256_thumbprint_hex(cert):
    expected = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    assert sha256_thumbprint_hex(cert) == expected
    assert sha256_thumbprint_hex(cert) == sha256_thumbprint_hex(cert).lower()
    assert len(sha256_thumbprint_hex(cert)) == 64


def test_x5t_s256(cert):
    digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()
    expected = base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
    value = x5t_s256(cert)
    assert value == expected
    assert len(value) == 43
    assert "=" not in value and "+" not in value and "/" not in value
    assert base64.urlsafe_b64decode(value + "=") == digest


def test_thumbprints_differ_between_certificates(ca, cert):
    assert x5t_s256(cert) != x5t_s256(ca.certificate)
    assert sha256_thumbprint_hex(cert) != sha256_thumbprint_hex(ca.certificate)


def test_load_pem_certificate_str_and_bytes(cert, pem):
    assert load_pem_certificate(pem) == cert
    assert load_pem_certificate(pem.encode("ascii")) == cert


def test_url_encoded_pem_round_trip(cert, pem):
    header = quote(pem)  # what nginx $ssl_client_escaped_cert looks like
    assert "\n" not in header and "%0A" in header
    parsed = parse_forwarded_certificate(header)
    assert parsed == cert
    assert x5t_s256(parsed) == x5t_s256(cert)


def test_url_encoded_pem_round_trip_fully_escaped(cert, pem):
    assert parse_forwarded_certificate(quote(pem, safe="")) == cert


def test_plus_is_not_turned_into_space(cert, pem):
    # quote() escapes '+' by default; a terminator may leave it literal. A ~900-char
    # base64 body without any '+' has probability ~(63/64)**900, i.e. never.
    header = quote(pem, safe="+/=")
    assert "+" in header
    assert parse_forwarded_certificate(header) == cert


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "   ",
        "not a certificate",
        quote("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        "%ff%fe%00",
        "-----BEGIN CERTIFICATE-----\nüñí\n-----END CERTIFICATE-----",
    ],
)
def test_junk_is_refused(junk):
    with pytest.raises(InvalidCertificateError) as info:
        parse_forwarded_certificate(junk)
    assert info.value.code == "invalid_certificate"


@pytest.mark.parametrize("junk", [b"", b"junk", "", "secret-looking-value"])
def test_load_pem_certificate_refuses_junk(junk):
    with pytest.raises(InvalidCertificateError) as info:
        load_pem_certificate(junk)
    assert "secret-looking-value" not in str(info.value)


def test_private_key_is_refused_without_echo(issued):
    key, _ = issued
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    with pytest.raises(InvalidCertificateError) as info:
        parse_forwarded_certificate(quote(key_pem))
    body = key_pem.splitlines()[1]
    assert body not in str(info.value)
    assert info.value.__cause__ is None


def test_message_does_not_echo_input():
    marker = "ATTACKER-CONTROLLED-MARKER"
    with pytest.raises(InvalidCertificateError) as info:
        parse_forwarded_certificate(quote(f"-----BEGIN CERTIFICATE-----\n{marker}\n"))
    assert marker not in str(info.value)


def test_oversized_is_refused(pem):
    padding = "%0A" * (MAX_FORWARDED_CERTIFICATE_SIZE // 3 + 1)
    header = quote(pem) + padding
    assert len(header) > MAX_FORWARDED_CERTIFICATE_SIZE
    with pytest.raises(InvalidCertificateError) as info:
        parse_forwarded_certificate(header)
    assert "large" in str(info.value)


def test_non_string_is_refused():
    with pytest.raises(InvalidCertificateError):
        parse_forwarded_certificate(None)  # type: ignore[arg-type]


@given(st.text(max_size=200))
def test_arbitrary_text_only_ever_raises_invalid_certificate(text):
    with pytest.raises(InvalidCertificateError):
        parse_forwarded_certificate(text)
