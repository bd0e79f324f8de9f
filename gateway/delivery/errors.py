"""Refusals of the outbox administration; each carries a stable ``code``."""

from __future__ import annotations


class DeliveryError(Exception):
    """Base class: an outbox operation that cannot be done as asked."""

    code = "delivery_error"


class UnknownMessage(DeliveryError):
    code = "not_found"


class NotRetryable(DeliveryError):
    """Only dead-lettered (or still pending) messages can be queued for delivery again."""

    code = "not_retryable"


class PayloadErased(DeliveryError):
    """The payload is gone (retention), so there is nothing left to deliver."""

    code = "payload_erased"
