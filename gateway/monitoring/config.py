"""Baseline and targets of the pact indicators, from configuration.

``GATEWAY_MONITORING_FILE`` names a YAML file; the shipped default
(``gateway/policies/monitoring.yaml``) carries the shape with unknown (null) figures, because
the 2019-2020 baseline is each region's own registration and must be entered by its operator.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

SHIPPED = Path(__file__).resolve().parent.parent / "policies" / "monitoring.yaml"
INDICATORS = ("absolute_absence", "long_relative_absence", "exemptions_5a")


class MonitoringConfigError(ValueError):
    code = "configuration_error"


def load_monitoring_config(path: str | None = None) -> dict:
    """``{"baseline": {...}, "targets": {...}}`` validated; raises naming the problem."""
    source = Path(path or os.environ.get("GATEWAY_MONITORING_FILE") or SHIPPED)
    try:
        document = yaml.safe_load(source.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise MonitoringConfigError(f"GATEWAY_MONITORING_FILE: cannot read {source}") from exc
    if not isinstance(document, dict):
        raise MonitoringConfigError("GATEWAY_MONITORING_FILE: must be a mapping")
    baseline = document.get("baseline") or {}
    targets = document.get("targets") or {}
    if not isinstance(baseline, dict) or not isinstance(targets, dict):
        raise MonitoringConfigError("GATEWAY_MONITORING_FILE: baseline and targets are mappings")
    result = {
        "baseline": {"school_year": str(baseline.get("school_year", "2019-2020"))},
        "targets": {},
    }
    for name in INDICATORS:
        for section, values in (("baseline", baseline), ("targets", targets)):
            value = values.get(name)
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value < 0
            ):
                raise MonitoringConfigError(
                    f"GATEWAY_MONITORING_FILE: {section}.{name} must be a whole number or null"
                )
            result[section][name] = value
    return result
