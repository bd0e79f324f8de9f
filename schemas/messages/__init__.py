"""Payload schemas of the message types, and the one entry point that loads a payload.

``load_payload`` is pipeline step 9 for the payload: it picks the schema by message type,
checks the payload against the day of sending, and returns plain JSON values (dates as
``YYYY-MM-DD``, times as RFC 3339 UTC) so the result can be stored as JSON as it is.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from marshmallow import Schema

from schemas.base import load_with
from schemas.errors import SchemaValidationError
from schemas.messages.absence_report import AbsenceReportSchema
from schemas.messages.case_agreements import CaseAgreementsMessageSchema
from schemas.messages.case_invitation import CaseInvitationSchema
from schemas.messages.case_reminder import CaseReminderSchema
from schemas.messages.case_response import CaseResponseSchema
from schemas.messages.exemption_advice_request import ExemptionAdviceRequestSchema
from schemas.messages.exemption_education_advice import ExemptionEducationAdviceSchema
from schemas.messages.exemption_medical_advice import ExemptionMedicalAdviceSchema
from schemas.messages.homebound_alert import HomeboundAlertSchema
from schemas.messages.homebound_escalation import HomeboundEscalationSchema
from schemas.messages.homebound_escalation_closed import HomeboundEscalationClosedSchema
from schemas.messages.homebound_report import HomeboundReportSchema
from schemas.messages.jgz_advice import JgzAdviceSchema
from schemas.messages.sickness_absence_referral import SicknessAbsenceReferralSchema
from schemas.messages.signal_match import OtherPartySchema, SignalMatchSchema
from schemas.messages.support_feedback import SupportFeedbackSchema
from schemas.messages.support_request import SupportRequestSchema
from schemas.vocabulary import (
    CASE_MESSAGE_TYPES,
    EXCHANGE_MESSAGE_TYPES,
    MESSAGE_TYPES,
    PARTNER_MESSAGE_TYPES,
)

MESSAGE_SCHEMAS: dict[str, type[Schema]] = {
    "absence_report": AbsenceReportSchema,
    "sickness_absence_referral": SicknessAbsenceReferralSchema,
    "jgz_advice": JgzAdviceSchema,
    "support_request": SupportRequestSchema,
    "support_feedback": SupportFeedbackSchema,
    "homebound_report": HomeboundReportSchema,
    "signal_match": SignalMatchSchema,
    "homebound_alert": HomeboundAlertSchema,
    "case_invitation": CaseInvitationSchema,
    "case_response": CaseResponseSchema,
    "case_agreements": CaseAgreementsMessageSchema,
    "case_reminder": CaseReminderSchema,
    "exemption_advice_request": ExemptionAdviceRequestSchema,
    "exemption_medical_advice": ExemptionMedicalAdviceSchema,
    "exemption_education_advice": ExemptionEducationAdviceSchema,
    "homebound_escalation": HomeboundEscalationSchema,
    "homebound_escalation_closed": HomeboundEscalationClosedSchema,
}
assert tuple(MESSAGE_SCHEMAS) == MESSAGE_TYPES

MESSAGE_GATEWAY_FIELDS: dict[str, tuple[str, ...]] = {
    "case_invitation": ("case_ref", "participants"),
    "case_response": ("case_ref",),
    "case_agreements": ("case_ref",),
    "exemption_advice_request": ("case_ref",),
}
"""The fields the gateway adds to a recipient's payload after minimisation, per routed type
(docs/pact-workflows.md sections 3.3, 4.2): every route of the type names exactly these in its
profile's ``gateway_fields``, and no other route names any. The case service fills them in
(``schemas.profiles.add_gateway_fields``)."""

__all__ = [
    "CASE_MESSAGE_TYPES",
    "EXCHANGE_MESSAGE_TYPES",
    "MESSAGE_GATEWAY_FIELDS",
    "MESSAGE_SCHEMAS",
    "MESSAGE_TYPES",
    "PARTNER_MESSAGE_TYPES",
    "AbsenceReportSchema",
    "CaseAgreementsMessageSchema",
    "CaseInvitationSchema",
    "CaseReminderSchema",
    "CaseResponseSchema",
    "ExemptionAdviceRequestSchema",
    "ExemptionEducationAdviceSchema",
    "ExemptionMedicalAdviceSchema",
    "HomeboundEscalationClosedSchema",
    "HomeboundEscalationSchema",
    "HomeboundAlertSchema",
    "HomeboundReportSchema",
    "JgzAdviceSchema",
    "OtherPartySchema",
    "SicknessAbsenceReferralSchema",
    "SignalMatchSchema",
    "SupportFeedbackSchema",
    "SupportRequestSchema",
    "load_payload",
]


def load_payload(message_type: str, data: object, today: date) -> dict[str, Any]:
    """Validate ``data`` as the payload of ``message_type`` as sent on ``today``.

    ``today`` is the local date (Europe/Amsterdam) of the request. Errors are reported under
    ``payload.`` paths; an unknown message type is reported under ``message_type``.
    """
    if message_type not in MESSAGE_SCHEMAS:
        raise SchemaValidationError({"message_type": ["Must be a known message type."]})
    return load_with(_schema(message_type, today), data, prefix="payload")


@lru_cache(maxsize=64)
def _schema(message_type: str, today: date) -> Schema:
    """Schema instances per type and day: building one costs more than loading with it, and
    loading leaves the instance unchanged."""
    return MESSAGE_SCHEMAS[message_type](today=today)
