"""Refusals of the audit and re-identification services; each carries status and code.

They are :class:`gateway.errors.GatewayError` subclasses, so the one error handler turns
them into problem+json.
"""

from __future__ import annotations

from ..problems import GatewayError, InvalidParameter, NotFound


class AuditError(GatewayError):
    """Base of the audit area's refusals."""


class UnknownEntry(NotFound):
    """No audit entry (or tree) of that size yet."""


class ChainInvalid(AuditError):
    """The chain is broken: no checkpoint can be signed, so no proof can be given."""

    status, code = 409, "audit_chain_invalid"


def invalid_parameter(name: str, message: str) -> InvalidParameter:
    return InvalidParameter(f"{name}: {message}", errors={name: [message]})
