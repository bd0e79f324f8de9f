"""OpenAPI description of the monitoring endpoint."""

from __future__ import annotations

from apispec import APISpec

from schemas.vocabulary import ADVICE_NONE, EXEMPTION_DECISIONS, MEDICAL_ADVICE

from ..docs.examples import example, examples, problem_example
from ..docs.openapi import path_source, problem_response
from ..exchange.openapi import FORBIDDEN, UNAUTHORISED

_COUNT = {"oneOf": [{"type": "integer", "minimum": 0}, {"const": "<5"}, {"type": "null"}]}
BY_CATEGORY = ["absolute_absence", "long_relative_absence", "exemption_5a", "exemption_other"]
BY_DURATION = ["under_4_weeks", "4_weeks_to_3_months", "over_3_months"]
# the pact member's groupings (design section 8); the names are the contract's enumerations
BY_MEDICAL_ADVICE = [*MEDICAL_ADVICE, ADVICE_NONE]
BY_DECISION = list(EXEMPTION_DECISIONS)
BY_BAND = ["under_6_weeks", "6_weeks_to_3_months", "over_3_months"]


def _counts(names: list[str]) -> dict:
    """An object of counts, one per name, each a number, '<5' or null (suppressed)."""
    return {
        "type": "object",
        "properties": {name: _COUNT for name in names},
        "required": list(names),
    }


def _pact_schema() -> dict:
    """The ``pact`` member: always present, every count in it suppressed like the rest."""

    def counts(names: list[str], description: str) -> dict:
        return {**_counts(names), "description": description}

    return {
        "type": "object",
        "description": (
            "The pact's own processes in the caller's scope (the operator: all; a partner: "
            "the consultations it convened or accepted, the exemption cases it convened or "
            "advised on, the escalations it reported or holds, the homebound reports it sent "
            "or received). Always present, zeros when nothing happened."
        ),
        "properties": {
            "consultations": {
                "type": "object",
                "description": (
                    "Consultations whose meeting day (in this school year) has come, with at "
                    "least one accepted invitee; with_agreements: those with agreements"
                ),
                "properties": {"held": _COUNT, "with_agreements": _COUNT},
                "required": ["held", "with_agreements"],
            },
            "exemption_requests": {
                "type": "object",
                "description": (
                    "Decided requests for an art. 5 sub a exemption, in the year of the "
                    "request; 'none': no medical advice came before the decision. An adviser "
                    "counts the requests it advised on, decided or not, and a grouping it was "
                    "not told (the decision; for the SWV also the GGD's advice) is null in "
                    "every cell"
                ),
                "properties": {
                    "total": _COUNT,
                    "by_medical_advice": counts(BY_MEDICAL_ADVICE, "The GGD's advice"),
                    "by_decision": counts(BY_DECISION, "Leerplicht's decision"),
                },
                "required": ["total", "by_medical_advice", "by_decision"],
            },
            "escalations": {
                "type": "object",
                "description": (
                    "Escalations to the holder of doorzettingsmacht: opened (fired) and "
                    "closed in this school year, open at its end (31 July, or today for the "
                    "current year); by_region splits opened over every region"
                ),
                "properties": {
                    "opened": _COUNT,
                    "closed": _COUNT,
                    "open_at_year_end": _COUNT,
                    "by_region": {"type": "object", "additionalProperties": _COUNT},
                },
                "required": ["opened", "closed", "open_at_year_end", "by_region"],
            },
            "time_to_placement": {
                "type": "object",
                "description": (
                    "Children placed in this school year (from their homebound reports), "
                    "once each, by days from since_date to placed_date: under 42, 42 to 90, "
                    "91 or more; median_days only when at least 5 were placed"
                ),
                "properties": {
                    "placed": _COUNT,
                    "median_days": {"type": ["number", "null"], "minimum": 0},
                    "by_band": counts(BY_BAND, "Days at home until the placement"),
                },
                "required": ["placed", "median_days", "by_band"],
            },
        },
        "required": ["consultations", "exemption_requests", "escalations", "time_to_placement"],
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
            "pact": _pact_schema(),
        },
        "required": ["school_year", "homebound", "pact"],
    }


EXAMPLES = {
    "Indicators": example(
        "The operator's view of a school year: small cells are '<5', a cell withheld to "
        "protect another is null (here the escalations closed: with last year's open count, "
        "opened minus closed would give this year's '<5' open count)",
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
            "pact": {
                "consultations": {"held": 37, "with_agreements": 31},
                "exemption_requests": {
                    "total": 12,
                    "by_medical_advice": {
                        "unfit_for_school": "<5",
                        "fit_with_adjustments": 6,
                        "fit_for_school": "<5",
                        "unable_to_advise": 0,
                        "none": 0,
                    },
                    "by_decision": {
                        "exempted_5a": "<5",
                        "not_exempted": 8,
                        "request_withdrawn": "<5",
                    },
                },
                "escalations": {
                    "opened": 11,
                    "closed": None,
                    "open_at_year_end": "<5",
                    "by_region": {"groningen": 6, "lekstroom": 5},
                },
                "time_to_placement": {
                    "placed": 41,
                    "median_days": 38,
                    "by_band": {
                        "under_6_weeks": 23,
                        "6_weeks_to_3_months": 12,
                        "over_3_months": 6,
                    },
                },
            },
        },
    ),
    "Problem.invalid_parameter.school_year": problem_example(
        400,
        "invalid_parameter",
        "school_year must look like 2025-2026",
        "/api/v1/monitoring/indicators",
        {"schoolYear": ["school_year must look like 2025-2026"]},
    ),
}


def _indicators() -> dict:
    return {
        "summary": "Pact indicators for a school year (small cells suppressed)",
        "description": (
            "Counts of 1-4 are '<5'; a cell withheld to protect another small cell "
            "by complementary suppression is null. The 'pact' member (always present) counts "
            "the pact's consultations, exemption requests, escalations and time to "
            "placement; its cells are withheld wherever a published relation (a total and "
            "its parts; an open count, last year's and the year's openings and closings) "
            "would give a hidden one."
        ),
        "operationId": "getIndicators",
        "tags": ["monitoring"],
        "security": [{"oauth2": ["monitoring:read"]}],
        "parameters": [
            {
                "name": "schoolYear",
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
