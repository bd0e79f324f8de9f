"""The stable identifiers of the processing activities (AVG article 30 register).

An activity's id is made from what the activity *is*, never from a database id, so it is the
same on every replica, after every restart and in every deployment that has the same policy:

- a route policy: ``<purpose>.<message_type>.<sender_type>-<recipient_type>``
  (``leerplicht_enforcement.absence_report.school-leerplicht``);
- a message type the gateway itself generates: ``<purpose>.<message_type>.gateway``
  (``signal_matching.signal_match.gateway``);
- the gateway's own processing: ``gateway.<activity>`` (``gateway.audit_log``).

Codes are lower case with underscores and organisation types have none of ``.``/``-``, so an
id reads back unambiguously. A route whose purpose changes becomes another activity (a new
purpose is a new processing under AVG article 5(1)(b)); one whose profile, retention or legal
basis changes keeps its id and its register entry changes. The URI of an activity is
``<base_url>/api/v1/processing-activities/<id>``: the ``dpl.core.processing_activity_id`` of
a Logboek Dataverwerkingen record. Plain functions (no imports), so every floor may use them.
"""

from __future__ import annotations

import re

PATH = "/api/v1/processing-activities"

GATEWAY = "gateway"
SIGNAL_MATCHING = "gateway.signal_matching"
CONSENT_REGISTRY = "gateway.consent_registry"
REIDENTIFICATION = "gateway.reidentification"
AUDIT_LOG = "gateway.audit_log"
SUBJECT_ACCESS = "gateway.subject_access"
SIGN_IN = "gateway.sign_in"
OWN_ACTIVITIES = (
    SIGNAL_MATCHING,
    CONSENT_REGISTRY,
    REIDENTIFICATION,
    AUDIT_LOG,
    SUBJECT_ACCESS,
    SIGN_IN,
)
"""The gateway's own processing, in the register's order."""

ID_PATTERN = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*(-[a-z][a-z0-9_]*)?){1,2}")
"""Every id the scheme can make (and nothing with a slash, a space or upper case)."""


def route_activity_id(
    purpose: str, message_type: str, sender_type: str, recipient_type: str
) -> str:
    """The activity of one route policy (a message type from one organisation type to one)."""
    return f"{purpose}.{message_type}.{sender_type}-{recipient_type}"


def generated_activity_id(purpose: str, message_type: str) -> str:
    """The activity of a message type only the gateway generates."""
    return f"{purpose}.{message_type}.{GATEWAY}"


def activity_uri(base_url: str, activity_id: str) -> str:
    """The activity's URI: its address in the register's API."""
    return f"{base_url.rstrip('/')}{PATH}/{activity_id}"
