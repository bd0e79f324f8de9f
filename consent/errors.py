"""Refusals of the consent registry, each with a stable ``code`` (STYLE.md, errors).

The gateway maps these to HTTP answers in one place; the messages never repeat a BSN.
"""

from __future__ import annotations

from collections.abc import Mapping


class ConsentError(Exception):
    """Base of the registry's refusals; ``errors`` maps a dotted body path to messages."""

    code = "consent_error"

    def __init__(self, detail: str, errors: Mapping[str, list[str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = {path: list(messages) for path, messages in (errors or {}).items()}


class GrantorInvalidError(ConsentError):
    """The people who consented cannot consent for a child of this age (:mod:`consent.age`)."""

    code = "consent_grantor_invalid"


class ConsentInvalidError(ConsentError):
    """The request is well formed but inconsistent (a validity that starts before birth)."""

    code = "validation_failed"


class ConsentNotFoundError(ConsentError):
    """No consent with this id that the caller may see: the same answer for both cases."""

    code = "not_found"


class WithdrawNotAllowedError(ConsentError):
    """The caller sees the consent (it received an exchange under it as a party named by
    type) but may not withdraw it: only the recorder, a party named by OIN or the operator
    may (API.md section 13, rule 3)."""

    code = "consent_withdraw_not_allowed"
