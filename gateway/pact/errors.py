"""Refusals of the case endpoints: each class decides its status and stable code, so the one
problem table answers them (docs/architecture.md, "A problem code").

Why 403 ``case_action_not_allowed`` and not 404 for a participant calling an action that is
not its own: it holds a ``case_ref``, so it knows the case exists; 403 tells it nothing new.
Any caller without the ref gets 404 ``not_found``, exactly as for a ref that never existed.
"""

from __future__ import annotations

from ..problems import GatewayError


class CaseError(GatewayError):
    status, code = 422, "case_error"


class CaseNotFound(CaseError):
    """The ref is not one of the caller's own: one answer for every such ref (no oracle)."""

    status, code = 404, "not_found"


class CaseActionNotAllowed(CaseError):
    status, code = 403, "case_action_not_allowed"


class CaseClosed(CaseError):
    status, code = 409, "case_closed"


class CaseAlreadyAnswered(CaseError):
    status, code = 409, "case_already_answered"


class UnknownParticipant(CaseError):
    status, code = 422, "unknown_participant"
