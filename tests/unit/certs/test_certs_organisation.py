"""Organisation certificates: OIN in serialNumber, clientAuth, key types, PEM files."""

import stat
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import given
from hypothesis import strategies as st

from certs import (
    ChainError,
    InvalidCertificateError,
    create_development_ca,
    has_client_auth,
    issue_organisation_certificate,
    oin_from_certificate,
    validate_oin,
    verify_issued_by,
    write_pem,
)

NOW = datetime(2025, 3, 1, 9, 30, 0, tzinfo=UTC)
OIN = "00000001234567890000"
NAME = "Gemeente Voorbeeld"


@pytest.fixture(scope="module")
def ca():
    return create_development_ca(now=NOW)


@pytest.fixture(scope="module")
def ec_issued(ca):
    return issue_organisation_certificate(ca, OIN, NAME, now=NOW)


@pytest.fixture(scope="module")
def rsa_issued(ca):
    return issue_organisation_certificate(ca, OIN, NAME, key_type="rsa", now=NOW)


def _attr(cert, oid):
    return [a.value for a in cert.subject.get_attributes_for_oid(oid)]


def test_subject_layout(ec_issued):
    _, cert = ec_issued
    assert _attr(cert, NameOID.COUNTRY_NAME) == ["NL"]
    assert _attr(cert, NameOID.ORGANIZATION_NAME) == [NAME]
    assert _attr(cert, NameOID.COMMON_NAME) == [NAME]
    assert _attr(cert, NameOID.SERIAL_NUMBER) == [OIN]


def test_oin_from_certificate(ec_issued):
    assert oin_from_certificate(ec_issued[1]) == OIN


def test_oin_from_certificate_without_serial_number(ca):
    assert oin_from_certificate(ca.certificate) is None


def test_client_auth_and_leaf_extensions(ca, ec_issued):
    key, cert = ec_issued
    exts = cert.extensions
    eku = exts.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert has_client_auth(cert)
    assert not has_client_auth(ca.certificate)
    ku = exts.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature
    assert not ku.value.key_encipherment and not ku.value.key_cert_sign
    bc = exts.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca is False
    aki = exts.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ca_ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ca_ski.digest
    assert cert.issuer == ca.certificate.subject
    assert cert.public_key() == key.public_key()


def test_ec_key_is_p256(ec_issued):
    key, _ = ec_issued
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert isinstance(key.curve, ec.SECP256R1)


def test_rsa_variant(ca, rsa_issued):
    key, cert = rsa_issued
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 3072
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and ku.key_encipherment
    assert oin_from_certificate(cert) == OIN
    verify_issued_by(cert, ca.certificate, at=NOW)


def test_validity_window(ec_issued):
    _, cert = ec_issued
    assert cert.not_valid_before_utc == NOW
    assert cert.not_valid_after_utc == NOW + timedelta(days=825)


def test_validity_is_capped_at_ca_expiry(ca):
    short_ca = create_development_ca(name="Short CA", valid_days=10, now=NOW)
    _, cert = issue_organisation_certificate(short_ca, OIN, NAME, valid_days=825, now=NOW)
    assert cert.not_valid_after_utc == short_ca.certificate.not_valid_after_utc


def test_issuing_with_expired_ca_is_refused(ca):
    with pytest.raises(ChainError):
        issue_organisation_certificate(ca, OIN, NAME, now=NOW + timedelta(days=3651))


def test_serial_numbers_are_unique(ca):
    serials = {
        issue_organisation_certificate(ca, OIN, NAME, now=NOW)[1].serial_number for _ in range(3)
    }
    assert len(serials) == 3


@pytest.mark.parametrize(
    "bad_oin",
    [
        "",
        "1234",
        "0000000123456789000",  # 19 digits
        "000000012345678900000",  # 21 digits
        "0000000123456789000a",
        "00000001234567890000\n",
        " 00000001234567890000",
        "٠٠٠٠٠٠٠١٢٣٤٥٦٧٨٩٠٠٠٠",  # Arabic-Indic digits pass str.isdigit()
        None,
        12345678901234567890,
    ],
)
def test_bad_oin_is_refused(ca, bad_oin):
    with pytest.raises(InvalidCertificateError) as info:
        issue_organisation_certificate(ca, bad_oin, NAME, now=NOW)
    assert info.value.code == "invalid_certificate"


@given(st.text(max_size=30))
def test_validate_oin_accepts_only_20_ascii_digits(text):
    is_oin = len(text) == 20 and all(c in "0123456789" for c in text)
    if is_oin:
        assert validate_oin(text) == text
    else:
        with pytest.raises(InvalidCertificateError):
            validate_oin(text)


@given(st.from_regex(r"[0-9]{20}", fullmatch=True))
def test_validate_oin_accepts_any_20_digits(oin):
    assert validate_oin(oin) == oin


@pytest.mark.parametrize("bad_name", ["", "   ", "x" * 65])
def test_bad_name_is_refused(ca, bad_name):
    with pytest.raises(InvalidCertificateError):
        issue_organisation_certificate(ca, OIN, bad_name, now=NOW)


def test_unknown_key_type_is_refused(ca):
    with pytest.raises(ValueError):
        issue_organisation_certificate(ca, OIN, NAME, key_type="dsa", now=NOW)


def test_write_pem_key_file_is_private(tmp_path, ec_issued):
    key, cert = ec_issued
    key_path = write_pem(tmp_path / "org.key", key=key)
    cert_path = write_pem(tmp_path / "org.pem", cert=cert)
    both_path = write_pem(tmp_path / "org-bundle.pem", key=key, cert=cert)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(both_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cert_path.stat().st_mode) == 0o644

    loaded_key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    assert loaded_key.private_numbers() == key.private_numbers()
    assert x509.load_pem_x509_certificate(cert_path.read_bytes()) == cert
    bundle = both_path.read_bytes()
    assert b"PRIVATE KEY" in bundle and x509.load_pem_x509_certificate(bundle) == cert


def test_write_pem_needs_something(tmp_path):
    with pytest.raises(ValueError):
        write_pem(tmp_path / "empty.pem")
