"""The ``saml`` block of a bootstrap file: the single IdP of :mod:`gateway.saml.setup` and the
registered IdPs of its ``idps`` list (:mod:`gateway.saml.idps`, issue 21).

Each IdP of the list that is created or changed is reported as ``idp <key>``, which the
bootstrap audits as ``admin.idp.create`` / ``admin.idp.update`` like every other record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..saml.idps import IdpPlan, idp_problems, save_idp
from ..saml.setup import SamlSetup, block_problems, save_setup
from ..storage.models import utcnow
from .plan import BootstrapReport


@dataclass
class SamlPlan:
    """The checked ``saml`` block: the single IdP (or None) and the registered IdPs."""

    setup: SamlSetup | None
    idps: list[IdpPlan] = field(default_factory=list)


def check_saml(block: dict, base_dir: Path, problem: Callable[[tuple, str], None]):
    """The ``saml`` block checked by :func:`gateway.saml.setup.block_problems` and, for each
    ``idps`` entry, :func:`gateway.saml.idps.idp_problems`, with metadata files read now
    (relative to ``base_dir``, the file's folder) so that they can be stored; problems go
    through ``problem(path, message)``."""
    problems, setup = block_problems(block, base_dir)
    for suffix, message in problems:
        problem(("saml", *suffix), message)
    idps = []
    entries = block.get("idps", [])
    if not isinstance(entries, list):
        problem(("saml", "idps"), "must be a list")
        entries = []
    seen: set[str] = set()
    now = utcnow()
    for index, entry in enumerate(entries):
        path = ("saml", "idps", index)
        if not isinstance(entry, dict):
            problem(path, "must be a mapping")
            continue
        entry_problems, plan = idp_problems(entry, base_dir, now)
        for suffix, message in entry_problems:
            problem((*path, *suffix), message)
        if plan is None:
            continue
        if plan.key in seen:
            problem((*path, "key"), "is listed twice")
        seen.add(plan.key)
        idps.append(plan)
    if setup is None and not idps:
        return None
    return SamlPlan(setup, idps)


def apply_saml(session, plan: SamlPlan, report: BootstrapReport) -> None:
    """Store the checked set-up and IdPs; the report says what was created or updated."""
    if plan.setup is not None:
        outcome = save_setup(session, plan.setup)
        getattr(report, outcome).append("saml configuration")
    for idp in plan.idps:
        outcome = save_idp(session, idp)
        getattr(report, outcome).append(f"idp {idp.key}")
