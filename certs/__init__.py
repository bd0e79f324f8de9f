"""PKI helpers for the Thuiszitterspact gateway.

A development CA, organisation certificates carrying the OIN in the subject serialNumber,
RFC 8705 thumbprints, parsing of forwarded client certificates and single-hop chain checks.
Pure library code: no Flask, no database. Public trust anchors live in ``certs/trust/``;
development private keys go to ``instance/`` and are never committed.
"""

from certs.authority import (
    CA_CERT_FILENAME,
    CA_KEY_FILENAME,
    CertificateAuthority,
    PrivateKey,
    create_development_ca,
)
from certs.chain import verify_issued_by
from certs.errors import CertificateError, ChainError, InvalidCertificateError
from certs.organisation import (
    has_client_auth,
    issue_organisation_certificate,
    oin_from_certificate,
    validate_oin,
    write_pem,
)
from certs.thumbprint import (
    MAX_FORWARDED_CERTIFICATE_SIZE,
    load_pem_certificate,
    parse_forwarded_certificate,
    sha256_thumbprint_hex,
    x5t_s256,
)

__all__ = [
    "CA_CERT_FILENAME",
    "CA_KEY_FILENAME",
    "MAX_FORWARDED_CERTIFICATE_SIZE",
    "CertificateAuthority",
    "CertificateError",
    "ChainError",
    "InvalidCertificateError",
    "PrivateKey",
    "create_development_ca",
    "has_client_auth",
    "issue_organisation_certificate",
    "load_pem_certificate",
    "oin_from_certificate",
    "parse_forwarded_certificate",
    "sha256_thumbprint_hex",
    "validate_oin",
    "verify_issued_by",
    "write_pem",
    "x5t_s256",
]
