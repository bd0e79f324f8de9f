"""Refusals of the exchange pipeline: each names its HTTP status and stable code."""

from __future__ import annotations

from collections.abc import Mapping


class Refusal(Exception):
    """A step refused the exchange; the answer is a problem with ``code``."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        errors: Mapping[str, list[str]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = dict(errors) if errors else None
        self.answer: Exception | None = None

    @classmethod
    def answered_by(cls, error) -> Refusal:
        """A refusal whose answer is an existing problem (a ``GatewayError`` with its own
        headers, e.g. ``WWW-Authenticate`` for ``insufficient_scope``): the send is refused
        and audited like any other, and the caller gets exactly that problem."""
        refusal = cls(error.status, error.code, error.detail, getattr(error, "errors", None))
        refusal.answer = error
        return refusal
