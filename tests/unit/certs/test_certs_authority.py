"""Development CA: creation, extensions and the save/load round trip."""

import stat
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from certs import (
    CA_CERT_FILENAME,
    CA_KEY_FILENAME,
    CertificateAuthority,
    InvalidCertificateError,
    create_development_ca,
)

NOW = datetime(2025, 1, 15, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def ca() -> CertificateAuthority:
    return create_development_ca(now=NOW)


def test_ca_is_self_signed_ec_p256(ca):
    cert = ca.certificate
    assert isinstance(ca.key, ec.EllipticCurvePrivateKey)
    assert isinstance(ca.key.curve, ec.SECP256R1)
    assert cert.subject == cert.issuer
    cert.verify_directly_issued_by(cert)
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn == "Thuiszitterspact Development CA"


def test_ca_extensions(ca):
    exts = ca.certificate.extensions
    bc = exts.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca is True
    ku = exts.get_extension_for_class(x509.KeyUsage)
    assert ku.value.key_cert_sign and ku.value.crl_sign
    assert not ku.value.digital_signature
    ski = exts.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(ca.key.public_key())


def test_ca_validity_uses_injected_now(ca):
    assert ca.certificate.not_valid_before_utc == NOW
    assert ca.certificate.not_valid_after_utc == NOW + timedelta(days=3650)


def test_naive_now_is_taken_as_utc():
    ca = create_development_ca(name="Naive CA", valid_days=1, now=datetime(2025, 1, 1))
    assert ca.certificate.not_valid_before_utc == datetime(2025, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("kwargs", [{"valid_days": 0}, {"name": ""}, {"name": "x" * 65}])
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(ValueError):
        create_development_ca(**kwargs)


def test_save_load_round_trip(ca, tmp_path):
    key_path, cert_path = ca.save(tmp_path / "dev-ca")
    assert key_path == tmp_path / "dev-ca" / CA_KEY_FILENAME
    assert cert_path == tmp_path / "dev-ca" / CA_CERT_FILENAME
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    from cryptography.hazmat.primitives import serialization

    # PKCS8 PEM, unencrypted, holding the same key as the CA in memory
    on_disk = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    assert on_disk.private_numbers() == ca.key.private_numbers()
    assert cert_path.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")

    loaded = CertificateAuthority.load(tmp_path / "dev-ca")
    assert loaded.certificate == ca.certificate
    assert loaded.key.private_numbers() == ca.key.private_numbers()


def test_save_leaves_no_temporary_files(ca, tmp_path):
    ca.save(tmp_path)
    ca.save(tmp_path)  # overwriting keeps the mode and the directory tidy
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([CA_CERT_FILENAME, CA_KEY_FILENAME])
    assert stat.S_IMODE((tmp_path / CA_KEY_FILENAME).stat().st_mode) == 0o600


def test_repr_does_not_show_the_key(ca):
    assert "key=" not in repr(ca)


def test_load_refuses_mismatched_key(ca, tmp_path):
    other = create_development_ca(name="Other CA", now=NOW)
    ca.save(tmp_path)
    other_key_dir = tmp_path / "other"
    other.save(other_key_dir)
    (tmp_path / CA_KEY_FILENAME).write_bytes((other_key_dir / CA_KEY_FILENAME).read_bytes())
    with pytest.raises(InvalidCertificateError):
        CertificateAuthority.load(tmp_path)


def test_load_refuses_junk(tmp_path):
    (tmp_path / CA_KEY_FILENAME).write_bytes(b"not a key")
    (tmp_path / CA_CERT_FILENAME).write_bytes(b"not a cert")
    with pytest.raises(InvalidCertificateError) as info:
        CertificateAuthority.load(tmp_path)
    assert info.value.code == "invalid_certificate"


def test_load_missing_directory_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        CertificateAuthority.load(tmp_path / "missing")
