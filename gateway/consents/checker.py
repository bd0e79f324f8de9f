"""The exchange pipeline's consent check, counted in ``gateway_consent_checks_total``.

The registry's domain (``consent/``) knows nothing of Prometheus; this wrapper counts every
decision by result (``allowed`` or the refusal code), never by child.
"""

from __future__ import annotations

from consent.interfaces import ConsentChecker, ConsentDecision

from .. import metrics


class CountingConsentChecker:
    """A :class:`ConsentChecker` that counts the decisions of the one it wraps."""

    def __init__(self, checker: ConsentChecker) -> None:
        self.checker = checker

    def check(self, *args, **kwargs) -> ConsentDecision:
        """The wrapped checker's :meth:`~consent.interfaces.ConsentChecker.check`, counted;
        the arguments pass through unchanged."""
        decision = self.checker.check(*args, **kwargs)
        result = "allowed" if decision.allowed else (decision.code or "consent_missing")
        metrics.CONSENT_CHECKS.labels(result).inc()
        return decision
