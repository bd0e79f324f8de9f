"""Errors of the OAuth area.

Two kinds. The protector's refusals are :class:`~gateway.errors.GatewayError` subclasses,
answered as problem+json with the ``WWW-Authenticate`` header of RFC 6750 section 3. The
internal refusals (:class:`Refused`) carry a ``reason`` naming the check that failed, for
unit tests only: answers and logs show just the RFC error code, so that a prober learns
nothing about which check it tripped (issue 3, "Bad input").
"""

from __future__ import annotations

from ..problems import GatewayError


class Refused(Exception):
    """A credential (client assertion, certificate, access token) did not pass a check.

    ``proven`` is ``(org_oin, client_id)`` when the credential itself held and a later check
    failed (a valid token of a suspended organisation): only then may the refusal be audited
    (API.md section 13 rule 4).
    """

    def __init__(self, reason: str, proven: tuple[str, str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.proven = proven


class MissingToken(GatewayError):
    """No bearer token at all: RFC 6750 section 3.1 says answer without an error code."""

    status, code = 401, "missing_token"

    def __init__(self) -> None:
        super().__init__(
            "This endpoint needs an access token: Authorization: Bearer <token>.",
            headers={"WWW-Authenticate": "Bearer"},
        )


class InvalidToken(GatewayError):
    """A token that is malformed, expired, revoked, unbound or of a suspended organisation."""

    status, code = 401, "invalid_token"

    def __init__(self) -> None:
        super().__init__(
            "The access token is invalid, expired or revoked; get a new one.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )


class InsufficientScope(GatewayError):
    """A valid token without the scope the operation needs (RFC 6750 section 3.1)."""

    status, code = 403, "insufficient_scope"

    def __init__(self, scopes: tuple[str, ...]) -> None:
        needed = " ".join(scopes)
        super().__init__(
            f"The access token lacks the scope this operation needs ({needed}).",
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{needed}"'},
        )
