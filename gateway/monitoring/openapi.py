"""OpenAPI description of the monitoring endpoint."""

from __future__ import annotations

from apispec import APISpec

from ..docs.openapi import path_source, problem_response
from ..exchange.openapi import FORBIDDEN, UNAUTHORISED

_COUNT = {"oneOf": [{"type": "integer", "minimum": 0}, {"const": "<5"}, {"type": "null"}]}
BY_CATEGORY = ["absolute_absence", "long_relative_absence", "exemption_5a", "exemption_other"]
BY_DURATION = ["under_4_weeks", "4_weeks_to_3_months", "over_3_months"]


def _counts(names: list[str]) -> dict:
    """An object of counts, one per name, each a number, '<5' or null (suppressed)."""
    return {
        "type": "object",
        "properties": {name: _COUNT for name in names},
        "required": list(names),
    }


def _indicators_schema() -> dict:
    return {
        "type": "object",
        "properties": {
            "school_year": {"type": "string"},
            "generated_at": {"type": "string", "format": "date-time"},
            "suppression_threshold": {"type": "integer"},
            "homebound": {
                "type": "object",
                "properties": {
                    "by_category": _counts(BY_CATEGORY),
                    "by_duration": _counts(BY_DURATION),
                },
            },
            "absolute_absence": _COUNT,
            "long_relative_absence": _COUNT,
            "exemptions_5a": _COUNT,
            "baseline": {"type": "object"},
            "targets": {"type": "object"},
        },
    }


def _indicators() -> dict:
    return {
        "summary": "Pact indicators for a school year (small cells suppressed)",
        "description": (
            "Counts of 1-4 are '<5'; a cell withheld to protect another small cell "
            "by complementary suppression is null."
        ),
        "operationId": "getIndicators",
        "tags": ["monitoring"],
        "security": [{"oauth2": ["monitoring:read"]}],
        "parameters": [
            {
                "name": "school_year",
                "in": "query",
                "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{4}$"},
            }
        ],
        "responses": {
            "200": {
                "description": "Indicators",
                "content": {"application/json": {"schema": _indicators_schema()}},
            },
            "400": problem_response("invalid_parameter"),
            "401": UNAUTHORISED,
            "403": FORBIDDEN,
        },
    }


@path_source
def monitoring_paths(spec: APISpec) -> None:
    spec.path(path="/api/v1/monitoring/indicators", operations={"get": _indicators()})
