"""The ``limit`` query parameter of the current request (API.md section 1)."""

from __future__ import annotations

from flask import request

from ..paging import parse_limit


def limit_parameter() -> int:
    return parse_limit(request.args.get("limit"))
