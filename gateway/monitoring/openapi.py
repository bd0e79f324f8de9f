"""OpenAPI description of the monitoring endpoint."""

from __future__ import annotations

from apispec import APISpec

from ..docs.examples import example, examples, problem_example
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


EXAMPLES = {
    "Indicators": example(
        "The operator's view of a school year: small cells are '<5', a cell withheld to "
        "protect another is null",
        {
            "school_year": "2026-2027",
            "generated_at": "2026-12-06T08:00:03.952775Z",
            "suppression_threshold": 5,
            "homebound": {
                "by_category": {
                    "absolute_absence": 12,
                    "long_relative_absence": 31,
                    "exemption_5a": "<5",
                    "exemption_other": None,
                },
                "by_duration": {
                    "under_4_weeks": 9,
                    "4_weeks_to_3_months": 22,
                    "over_3_months": 17,
                },
            },
            "absolute_absence": 12,
            "long_relative_absence": 31,
            "exemptions_5a": "<5",
            "baseline": {
                "school_year": "2019-2020",
                "absolute_absence": 41,
                "long_relative_absence": 64,
                "exemptions_5a": 9,
            },
            "targets": {"absolute_absence": 20, "long_relative_absence": 32, "exemptions_5a": 5},
        },
    ),
    "Problem.invalid_parameter.school_year": problem_example(
        400,
        "invalid_parameter",
        "school_year must look like 2025-2026",
        "/api/v1/monitoring/indicators",
        {"school_year": ["school_year must look like 2025-2026"]},
    ),
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
                "example": "2026-2027",
            }
        ],
        "responses": {
            "200": {
                "description": "Indicators",
                "content": {
                    "application/json": {
                        "schema": _indicators_schema(),
                        "examples": examples("Indicators"),
                    }
                },
            },
            "400": problem_response(
                "invalid_parameter",
                "Problem.invalid_parameter.school_year",
                "Problem.invalid_parameter",
            ),
            "401": UNAUTHORISED,
            "403": FORBIDDEN,
        },
    }


@path_source
def monitoring_paths(spec: APISpec) -> None:
    for name, component in EXAMPLES.items():
        spec.components.example(name, component)
    spec.path(path="/api/v1/monitoring/indicators", operations={"get": _indicators()})
