"""Refusals of the outbox administration: problems (:mod:`gateway.problems`) with a stable
code and status, shown by the CLI through the one problem table."""

from __future__ import annotations

from ..problems import GatewayError


class DeliveryError(GatewayError):
    """Base class: an outbox operation that cannot be done as asked."""

    status, code = 409, "delivery_error"


class UnknownMessage(DeliveryError):
    status, code = 404, "not_found"


class NotRetryable(DeliveryError):
    """Only dead-lettered (or still pending) messages can be queued for delivery again."""

    code = "not_retryable"


class PayloadErased(DeliveryError):
    """The payload is gone (retention), so there is nothing left to deliver."""

    code = "payload_erased"
