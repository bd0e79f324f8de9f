"""Refusals of the exchange: each class decides its HTTP status and stable code.

A :class:`Refusal` is a :class:`~gateway.problems.GatewayError`, so the one problem table
(:mod:`gateway.errors`) answers it and the views translate nothing. The send audits every
refusal it raises (:meth:`gateway.exchange.service.ExchangeService.send`), so a failure that
is already another problem (a body the HTTP layer could not read, a polymorphic subject, a
scope) is raised as :meth:`Refusal.answered_by` that problem: audited like the rest, answered
exactly as that problem, headers included.
"""

from __future__ import annotations

from ..problems import GatewayError

VALIDATION_FAILED = "The request body is not valid."


class Refusal(GatewayError):
    """A step refused the exchange; the answer is a problem with ``code``."""

    @classmethod
    def answered_by(cls, error: GatewayError) -> Refusal:
        """A refusal whose answer is an existing problem (e.g. ``WWW-Authenticate`` for
        ``insufficient_scope``): the send is refused and audited like any other, and the
        caller gets exactly that problem."""
        refusal = cls(
            error.detail,
            code=error.code,
            status=error.status,
            errors=error.errors,
            headers=error.headers,
        )
        refusal.title = error.title
        return refusal


class ValidationFailed(Refusal):
    status, code = 422, "validation_failed"

    def __init__(self, errors) -> None:
        super().__init__(VALIDATION_FAILED, errors=errors)


class InsufficientScope(Refusal):
    """A valid token without the scope the operation needs (RFC 6750 section 3.1); the same
    answer as the protector's ``insufficient_scope``, checked by the send itself so that it
    is audited as step 2."""

    status, code = 403, "insufficient_scope"

    def __init__(self, scope: str) -> None:
        super().__init__(
            f"The access token lacks the scope this operation needs ({scope}).",
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
        )


class UnknownRecipient(Refusal):
    status, code = 404, "unknown_recipient"


class RecipientSuspended(Refusal):
    status, code = 403, "recipient_suspended"


class RouteNotAllowed(Refusal):
    status, code = 403, "route_not_allowed"


class UnknownReference(Refusal):
    status, code = 422, "unknown_reference"


class ConsentRefused(Refusal):
    """No covering consent; ``code`` names why (missing, withdrawn, expired)."""

    status, code = 403, "consent_missing"


class IdempotencyKeyMissing(Refusal):
    status, code = 400, "idempotency_key_missing"


class IdempotencyKeyInvalid(Refusal):
    status, code = 400, "idempotency_key_invalid"


class IdempotencyKeyReused(Refusal):
    status, code = 409, "idempotency_key_reused"


class TransactionIdReused(Refusal):
    status, code = 409, "transaction_id_reused"


class ExchangeNotFound(Refusal):
    status, code = 404, "not_found"


class ExchangeRetracted(Refusal):
    """The sender retracted this exchange (issue 19): it can no longer be acknowledged; the
    recipient's inbox holds a ``retraction`` notice instead."""

    status, code = 409, "exchange_retracted"


class NotRetractable(Refusal):
    """Only a partner's own send can be retracted, not a notice or a message the gateway
    generated."""

    status, code = 409, "exchange_not_retractable"


class RetractionConflict(Refusal):
    """The retraction already names another correcting exchange."""

    status, code = 409, "retraction_conflict"
