"""Chain checks: right issuer and validity window, wrong CA, expiry, non-CA issuers."""

from datetime import UTC, datetime, timedelta

import pytest

from certs import (
    CertificateError,
    ChainError,
    InvalidCertificateError,
    create_development_ca,
    issue_organisation_certificate,
    verify_issued_by,
)

NOW = datetime(2025, 2, 1, 8, 0, 0, tzinfo=UTC)
OIN = "00000001111111110000"
NAME = "Onderwijsinstelling Test"


@pytest.fixture(scope="module")
def ca():
    return create_development_ca(now=NOW)


@pytest.fixture(scope="module")
def other_ca():
    return create_development_ca(name="Other Development CA", now=NOW)


@pytest.fixture(scope="module")
def impostor_ca():
    """A different key under the very same CA name: only the signature tells them apart."""
    return create_development_ca(now=NOW)


@pytest.fixture(scope="module")
def cert(ca):
    return issue_organisation_certificate(ca, OIN, NAME, now=NOW)[1]


@pytest.fixture(scope="module")
def short_lived(ca):
    return issue_organisation_certificate(ca, OIN, NAME, valid_days=1, now=NOW)[1]


def test_error_codes():
    assert issubclass(ChainError, CertificateError)
    assert issubclass(InvalidCertificateError, CertificateError)
    assert ChainError("x").code == "untrusted_certificate"
    assert InvalidCertificateError("x").code == "invalid_certificate"


def test_verify_succeeds(ca, cert):
    verify_issued_by(cert, ca.certificate, at=NOW + timedelta(days=30))


def test_verify_at_boundaries(ca, short_lived):
    verify_issued_by(short_lived, ca.certificate, at=NOW)
    verify_issued_by(short_lived, ca.certificate, at=NOW + timedelta(days=1))


def test_verify_defaults_to_now():
    ca = create_development_ca()
    cert = issue_organisation_certificate(ca, OIN, NAME)[1]
    verify_issued_by(cert, ca.certificate)


def test_naive_at_is_taken_as_utc(ca, cert):
    verify_issued_by(cert, ca.certificate, at=NOW.replace(tzinfo=None))


def test_other_ca_is_refused(other_ca, cert):
    with pytest.raises(ChainError) as info:
        verify_issued_by(cert, other_ca.certificate, at=NOW)
    assert info.value.code == "untrusted_certificate"


def test_same_name_different_key_is_refused(impostor_ca, cert):
    assert impostor_ca.certificate.subject == cert.issuer
    with pytest.raises(ChainError, match="signature"):
        verify_issued_by(cert, impostor_ca.certificate, at=NOW)


def test_expired_certificate_is_refused(ca, short_lived):
    with pytest.raises(ChainError, match="expired"):
        verify_issued_by(short_lived, ca.certificate, at=NOW + timedelta(days=2))


def test_expired_relative_to_real_now():
    past = datetime.now(UTC) - timedelta(days=400)
    old_ca = create_development_ca(name="Old CA", valid_days=3650, now=past)
    old_cert = issue_organisation_certificate(old_ca, OIN, NAME, valid_days=30, now=past)[1]
    verify_issued_by(old_cert, old_ca.certificate, at=past + timedelta(days=1))
    with pytest.raises(ChainError):
        verify_issued_by(old_cert, old_ca.certificate)


def test_not_yet_valid_is_refused(ca, cert):
    with pytest.raises(ChainError, match="not yet valid"):
        verify_issued_by(cert, ca.certificate, at=NOW - timedelta(seconds=1))


def test_expired_ca_is_refused(ca):
    near_end = NOW + timedelta(days=3649)
    late = issue_organisation_certificate(ca, OIN, NAME, valid_days=825, now=near_end)[1]
    with pytest.raises(ChainError):
        verify_issued_by(late, ca.certificate, at=NOW + timedelta(days=3651))


def test_leaf_cannot_act_as_issuer(cert):
    with pytest.raises(ChainError, match="not a CA"):
        verify_issued_by(cert, cert, at=NOW)


def test_self_signed_ca_verifies_against_itself(ca):
    verify_issued_by(ca.certificate, ca.certificate, at=NOW)
