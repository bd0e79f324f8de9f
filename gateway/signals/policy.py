"""The signal policy: which organisation types take part in signalling, and the basis on
which a ``signal_match`` tells them of each other (API.md section 13 rules 5 and 6).

It is data, like the route policies: shipped in ``gateway/policies/signals.yaml`` and read
once at start, so that every process of one image applies the same list. A file that does
not hold a valid policy stops the start instead of letting every type signal.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

SHIPPED_POLICY = Path(__file__).resolve().parent.parent / "policies" / "signals.yaml"
KEYS = {"organisation_types", "purpose", "legal_basis", "retention_days"}


class SignalPolicyError(ValueError):
    """The policy file is not a valid signal policy; the message names the key."""


@dataclass(frozen=True)
class SignalPolicy:
    organisation_types: frozenset[str]
    purpose: str
    citation: str
    retention_days: int

    def may_signal(self, organisation_type: str) -> bool:
        return organisation_type in self.organisation_types

    @property
    def legal_basis(self) -> dict:
        """The ``legal_basis`` of each ``signal_match`` and its audit event."""
        return {"type": "legal_obligation", "citation": self.citation}


def parse_signal_policy(document: object, source: str = "signals.yaml") -> SignalPolicy:
    """The policy in a loaded YAML document; a ``signal_match`` is sent without consent, so
    its basis must be a named legal obligation."""
    from schemas.vocabulary import PURPOSES

    from ..registry.rules import ORGANISATION_TYPES

    def refuse(key: str, message: str) -> SignalPolicyError:
        return SignalPolicyError(f"{source}: signal_match.{key}: {message}")

    if not isinstance(document, dict) or not isinstance(document.get("signal_match"), dict):
        raise SignalPolicyError(f"{source}: must hold a signal_match mapping")
    policy = document["signal_match"]
    for key in policy:
        if key not in KEYS:
            raise refuse(key, f"unknown key (allowed: {', '.join(sorted(KEYS))})")
    types = policy.get("organisation_types")
    if not isinstance(types, list) or not all(t in ORGANISATION_TYPES for t in types):
        raise refuse("organisation_types", f"must be a list of {', '.join(ORGANISATION_TYPES)}")
    if policy.get("purpose") not in PURPOSES:
        raise refuse("purpose", f"must be one of {', '.join(PURPOSES)}")
    basis = policy.get("legal_basis")
    citation = basis.get("citation") if isinstance(basis, dict) else None
    if (
        not isinstance(basis, dict)
        or set(basis) != {"type", "citation"}
        or basis["type"] != "legal_obligation"
        or not isinstance(citation, str)
        or not 1 <= len(citation) <= 200
    ):
        raise refuse("legal_basis", "must be {type: legal_obligation, citation: ...}")
    retention = policy.get("retention_days")
    if not isinstance(retention, int) or isinstance(retention, bool) or not 1 <= retention <= 3650:
        raise refuse("retention_days", "must be a whole number of days from 1 to 3650")
    return SignalPolicy(frozenset(types), policy["purpose"], citation, retention)


def load_signal_policy(path: Path = SHIPPED_POLICY) -> SignalPolicy:
    return parse_signal_policy(yaml.safe_load(path.read_text()), path.name)
