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
