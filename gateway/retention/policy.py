"""The retention terms: data beside the route policies, read once at start.

Shipped in ``gateway/policies/retention.yaml`` and validated strictly, like the signal policy:
a missing purpose, an unknown key or a term out of range stops the start instead of keeping
something for ever (or erasing it at once) by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import yaml

SHIPPED_POLICY = Path(__file__).resolve().parent.parent / "policies" / "retention.yaml"
WITHOUT_PURPOSE = "without_purpose"
"""The ``audit_subject_days`` key of events that name a child but no purpose."""
MAX_DAYS = 7300
RECORD_KEYS = (
    "consents_days_after_end",
    "signals_days_after_close",
    "reidentification_days_after_decision",
    "monitoring_facts_days",
    "breach_register_days_after_confirmation",
)
KEYS = ("audit_subject_days", *RECORD_KEYS)


class RetentionPolicyError(ValueError):
    """The file is not a valid retention policy; the message names the key."""


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each kind of record about a child is kept (see the YAML file's comments)."""

    audit_subject_days: dict[str, int]
    consents_days_after_end: int
    signals_days_after_close: int
    reidentification_days_after_decision: int
    monitoring_facts_days: int
    breach_register_days_after_confirmation: int

    def audit_term(self, purpose: str | None) -> timedelta:
        """How long an event of ``purpose`` keeps its child reference; an unknown purpose
        (one removed from the vocabulary since) gets the longest term, never a shorter."""
        days = self.audit_subject_days
        if purpose is None:
            return timedelta(days=days[WITHOUT_PURPOSE])
        return timedelta(days=days.get(purpose, max(days.values())))

    @property
    def shortest_audit_term(self) -> timedelta:
        """No event younger than this can be due: the purge's scan starts below it."""
        return timedelta(days=min(self.audit_subject_days.values()))


def _days(value: object, where: str, source: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_DAYS:
        raise RetentionPolicyError(
            f"{source}: {where}: must be a whole number of days from 1 to {MAX_DAYS}"
        )
    return value


def parse_retention_policy(document: object, source: str = "retention.yaml") -> RetentionPolicy:
    """The policy in a loaded YAML document: every key present, nothing else, every audited
    purpose (``schemas.vocabulary.AUDIT_PURPOSES``) and ``without_purpose`` given a term."""
    from schemas.vocabulary import AUDIT_PURPOSES

    if not isinstance(document, dict):
        raise RetentionPolicyError(f"{source}: must be a mapping")
    for key in document:
        if key not in KEYS:
            raise RetentionPolicyError(
                f"{source}: {key}: unknown key (allowed: {', '.join(KEYS)})"
            )
    for key in KEYS:
        if key not in document:
            raise RetentionPolicyError(f"{source}: {key}: missing")
    audit = document["audit_subject_days"]
    if not isinstance(audit, dict):
        raise RetentionPolicyError(f"{source}: audit_subject_days: must be a mapping")
    wanted = (*AUDIT_PURPOSES, WITHOUT_PURPOSE)
    for purpose in audit:
        if purpose not in wanted:
            raise RetentionPolicyError(
                f"{source}: audit_subject_days.{purpose}: not a purpose "
                f"(allowed: {', '.join(wanted)})"
            )
    for purpose in wanted:
        if purpose not in audit:
            raise RetentionPolicyError(f"{source}: audit_subject_days.{purpose}: missing")
    terms = {p: _days(audit[p], f"audit_subject_days.{p}", source) for p in wanted}
    records = {key: _days(document[key], key, source) for key in RECORD_KEYS}
    return RetentionPolicy(audit_subject_days=terms, **records)


def load_retention_policy(path: Path = SHIPPED_POLICY) -> RetentionPolicy:
    return parse_retention_policy(yaml.safe_load(path.read_text()), path.name)
