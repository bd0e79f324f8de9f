"""The closed vocabularies of the external contract (API.md), in one place.

Every enumeration a partner may send or receive is listed here once, so the schemas, the
OpenAPI document and the gateway's policies cannot drift apart on spelling.
"""

from __future__ import annotations

MESSAGE_TYPES: tuple[str, ...] = (
    "absence_report",
    "sickness_absence_referral",
    "jgz_advice",
    "support_request",
    "support_feedback",
    "homebound_report",
    "signal_match",
    "homebound_alert",
)
"""Every message type the gateway knows (API.md section 3, plus the ``homebound_alert``
extension)."""

GATEWAY_MESSAGE_TYPES: tuple[str, ...] = ("signal_match", "homebound_alert")
"""Types only the gateway generates."""

PARTNER_MESSAGE_TYPES: tuple[str, ...] = tuple(
    t for t in MESSAGE_TYPES if t not in GATEWAY_MESSAGE_TYPES
)
"""Types a partner may send; the route table refuses the gateway's own types."""

HOMEBOUND_ALERTS: tuple[str, ...] = ("approaching_6_weeks", "approaching_3_months")

ORGANISATION_TYPES: tuple[str, ...] = ("school", "swv", "ggd", "wij", "leerplicht", "operator")

PURPOSES: tuple[str, ...] = (
    "leerplicht_enforcement",
    "passend_onderwijs",
    "mazl",
    "support",
    "homebound_monitoring",
    "signal_matching",
)
"""Purposes of processing named by the route table (API.md section 3)."""

CONSENT_PURPOSES: tuple[str, ...] = ("mazl", "support", "case_consultation")

AUDIT_PURPOSES: tuple[str, ...] = tuple(dict.fromkeys(PURPOSES + CONSENT_PURPOSES))
"""Purposes an audit event may name: a route's, or a consent's (``case_consultation``)."""
LEGAL_BASIS_TYPES: tuple[str, ...] = ("legal_obligation", "consent")

EDUCATION_SECTORS: tuple[str, ...] = ("po", "vo", "mbo", "so", "vso")

ABSENCE_TYPES: tuple[str, ...] = ("relative", "absolute", "signal")
ABSENCE_REASON_CATEGORIES: tuple[str, ...] = (
    "unauthorised",
    "luxury",
    "late_arrival",
    "concerning_sickness",
    "other",
)
JGZ_ADVICE: tuple[str, ...] = (
    "full_attendance",
    "partial_attendance",
    "adjusted_timetable",
    "temporarily_unable",
    "referred_to_care",
)
CONCERN_CATEGORIES: tuple[str, ...] = (
    "family_situation",
    "behaviour",
    "wellbeing",
    "finances",
    "housing",
    "other",
)
URGENCIES: tuple[str, ...] = ("normal", "urgent")
INVOLVEMENTS: tuple[str, ...] = ("accepted", "in_progress", "closed", "referred")
HOMEBOUND_CATEGORIES: tuple[str, ...] = (
    "absolute_absence",
    "long_relative_absence",
    "exemption_5a",
    "exemption_other",
)
PERSPECTIVES: tuple[str, ...] = ("none", "in_progress", "placed")

SIGNAL_CATEGORIES: tuple[str, ...] = (
    "attendance",
    "wellbeing",
    "family_situation",
    "safety",
    "other",
)
SIGNAL_STATUSES: tuple[str, ...] = ("open", "closed")

GRANTOR_ROLES: tuple[str, ...] = ("parent", "guardian", "youth")
EVIDENCE_METHODS: tuple[str, ...] = ("written", "digital", "verbal")
CONSENT_STATUSES: tuple[str, ...] = ("active", "expired", "withdrawn", "pending", "superseded")

EXCHANGE_STATUSES: tuple[str, ...] = (
    "accepted",
    "delivered",
    "acknowledged",
    "dead_lettered",
    "retracted",
)
"""``retracted`` (issue 19): its sender took it back; the payload is gone from the gateway."""

NOTICE_TYPES: tuple[str, ...] = ("retraction", "consent_withdrawn")
"""Inbox items the gateway makes to tell a recipient about data it received (AVG art. 19):
a sender retracted an exchange, a consent it received under was withdrawn. They are not
message types a partner can send; they carry no content about the child."""

RETRACTION_REASONS: tuple[str, ...] = (
    "wrong_child",
    "wrong_recipient",
    "incorrect_content",
    "no_legal_basis",
    "other",
)
"""Why a sender retracts an exchange (``POST /api/v1/exchanges/{id}/retract``)."""
REIDENTIFICATION_STATUSES: tuple[str, ...] = (
    "pending",
    "approved",
    "refused",
    "expired",
    "consumed",
)
AUDIT_DECISIONS: tuple[str, ...] = ("allowed", "denied")
