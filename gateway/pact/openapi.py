"""OpenAPI description of ``/api/v1/cases`` (docs/pact-workflows.md section 7)."""

from __future__ import annotations

from apispec import APISpec

from ..docs.openapi import path_source


@path_source
def case_paths(spec: APISpec) -> None:
    return None
