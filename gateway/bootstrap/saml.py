"""The ``saml`` block of a bootstrap file: the SAML set-up of :mod:`gateway.saml.setup`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..saml.setup import SamlSetup, block_problems, save_setup
from .plan import BootstrapReport


def check_saml(block: dict, base_dir: Path, problem: Callable[[tuple, str], None]):
    """The ``saml`` block checked by :func:`gateway.saml.setup.block_problems`, with the IdP
    metadata file read now (relative to ``base_dir``, the file's folder) so that it can be
    stored; problems go through ``problem(path, message)``."""
    problems, setup = block_problems(block, base_dir)
    for suffix, message in problems:
        problem(("saml", *suffix), message)
    return setup


def apply_saml(session, setup: SamlSetup, report: BootstrapReport) -> None:
    """Store the checked set-up; the report says whether it was created, updated or unchanged."""
    outcome = save_setup(session, setup)
    getattr(report, "unchanged" if outcome == "unchanged" else outcome).append(
        "saml configuration"
    )
