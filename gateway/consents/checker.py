"""The exchange pipeline's consent check, counted in ``gateway_consent_checks_total``.

The registry's domain (``consent/``) knows nothing of Prometheus; this wrapper counts every
decision by result (``allowed`` or the refusal code), never by child.
"""

from __future__ import annotations

from datetime import datetime

from consent.interfaces import ConsentChecker, ConsentDecision, Party

from .. import metrics


class CountingConsentChecker:
    """A :class:`ConsentChecker` that counts the decisions of the one it wraps."""

    def __init__(self, checker: ConsentChecker) -> None:
        self.checker = checker

    def check(
        self,
        subject_ref: str,
        purpose: str,
        sender: Party,
        recipient: Party,
        at: datetime,
        replying_under: str | None = None,
    ) -> ConsentDecision:
        decision = self.checker.check(
            subject_ref, purpose, sender, recipient, at, replying_under=replying_under
        )
        result = "allowed" if decision.allowed else (decision.code or "consent_missing")
        metrics.CONSENT_CHECKS.labels(result).inc()
        return decision
