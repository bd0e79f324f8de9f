"""Withdrawal notices wherever a consent is withdrawn (issue 19, AVG article 19).

A consent is withdrawn through the API (:class:`~gateway.consents.api.ConsentApi`) or on the
privacy officer's page (:mod:`gateway.web.consentdesk`), and both call the registry's
``withdraw``. So the registry is handed out wrapped: :class:`NotifyingRegistry` is the
:class:`consent.service.ConsentService` itself for everything, except that after a withdrawal
every other organisation that received data under the consent is told
(:class:`gateway.exchange.notices.WithdrawalNotices`). The notices are written after the
withdrawal's own transaction; a repeated withdrawal (a retry after a failure in between)
completes the missing notices and tells no one twice.
"""

from __future__ import annotations

from consent.records import Actor, Consent
from consent.service import ConsentService

from ..exchange.notices import WithdrawalNotices


class NotifyingRegistry:
    def __init__(self, service: ConsentService, notices: WithdrawalNotices) -> None:
        self._service = service
        self._notices = notices

    def __getattr__(self, name: str):
        return getattr(self._service, name)

    def withdraw(
        self,
        consent_id: str,
        actor: Actor,
        role: str,
        reason: str,
        transaction_id: str | None = None,
    ) -> Consent:
        consent = self._service.withdraw(consent_id, actor, role, reason, transaction_id)
        if consent.withdrawn_at is not None:
            self._notices.consent_withdrawn(consent.id, actor.org_id, consent.withdrawn_at)
        return consent
