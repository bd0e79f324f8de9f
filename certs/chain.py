"""Checking that a certificate was issued by a given CA and is valid at a given time.

This is deliberately a single-hop check (leaf directly under a trust anchor), which is what
the development CA produces and what the gateway needs after the TLS terminator has done
full path validation; it is a second, independent line of defence, not a replacement.
"""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from certs._time import utc
from certs.errors import ChainError


def _check_validity(cert: x509.Certificate, at: datetime, what: str) -> None:
    # RFC 5280 section 4.1.2.5: the validity period includes both boundaries.
    if at < cert.not_valid_before_utc:
        raise ChainError(f"the {what} is not yet valid")
    if at > cert.not_valid_after_utc:
        raise ChainError(f"the {what} has expired")


def _check_is_ca(ca_cert: x509.Certificate) -> None:
    """Refuse issuers that are not CAs, so a leaf cannot vouch for another leaf."""
    try:
        constraints = ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        raise ChainError("the issuer certificate is not a CA") from None
    if not constraints.ca:
        raise ChainError("the issuer certificate is not a CA")
    try:
        usage = ca_cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not usage.key_cert_sign:
        raise ChainError("the issuer certificate may not sign certificates")


def verify_issued_by(
    cert: x509.Certificate,
    ca_cert: x509.Certificate,
    at: datetime | None = None,
) -> None:
    """Raise ChainError unless ``cert`` is signed by ``ca_cert`` and both are valid at ``at``.

    ``at`` defaults to now (UTC); naive datetimes are taken as UTC.
    """
    moment = utc(at)
    _check_is_ca(ca_cert)
    try:
        cert.verify_directly_issued_by(ca_cert)
    except ValueError:
        raise ChainError("the certificate was not issued by the trusted CA") from None
    except InvalidSignature:
        raise ChainError("the certificate signature does not verify") from None
    except TypeError:
        raise ChainError("the issuer key type is not supported") from None
    _check_validity(cert, moment, "certificate")
    _check_validity(ca_cert, moment, "CA certificate")
