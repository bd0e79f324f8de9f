"""Query parameters shared by list endpoints (API.md section 1: ``limit`` 1..500, default 50)."""

from __future__ import annotations

import re

from flask import request

from ..problems import InvalidParameter

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def limit_parameter() -> int:
    raw = request.args.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not re.fullmatch(r"[0-9]{1,3}", raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidParameter(
            "limit must be an integer from 1 to 500.", errors={"limit": ["Must be 1..500."]}
        )
    return int(raw)
