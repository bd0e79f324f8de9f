"""Exceptions raised by the PKI helpers.

Every error carries a stable, machine-readable ``code`` so that the gateway can turn it
into an OAuth/HTTP error response without parsing messages, and messages never echo the
(attacker-controlled) certificate input they were raised for.
"""

from __future__ import annotations


class CertificateError(Exception):
    """Base class for everything in :mod:`certs` that rejects a certificate."""

    code: str = "invalid_certificate"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidCertificateError(CertificateError):
    """The input is not a usable certificate (malformed, empty, too big, wrong content)."""

    code = "invalid_certificate"


class ChainError(CertificateError):
    """The certificate is well-formed but not trusted: wrong issuer, bad signature, expired."""

    code = "untrusted_certificate"
