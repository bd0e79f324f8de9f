"""``cursor`` and ``limit`` for POST searches, and their 400 ``invalid_parameter`` rule.

API.md section 1 gives paging parameters one rule for GET query strings and POST bodies
alike: default limit 50, 1..500, anything else 400 ``invalid_parameter``. A search body that
breaks that rule raises ``InvalidParameterError`` (carrying every error found) instead of
the 422 ``SchemaValidationError`` other body errors give.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema

from schemas.base import StrictSchema, load_with
from schemas.errors import InvalidParameterError, SchemaValidationError
from schemas.fields import Text, bounded_integer

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
PAGING_FIELDS: tuple[str, ...] = ("cursor", "limit")


class PagedSearchSchema(StrictSchema):
    """Base of search bodies: an optional opaque ``cursor`` and a ``limit``."""

    cursor = Text(
        max_length=1024,
        allow_none=True,
        load_default=None,
        metadata={"description": "The next_cursor of the previous page; absent or null first."},
    )
    limit = bounded_integer(1, MAX_LIMIT, load_default=DEFAULT_LIMIT)


def load_search(schema: Schema, data: object) -> dict[str, Any]:
    """Load a search body; paging errors make it an ``InvalidParameterError`` (400)."""
    try:
        return load_with(schema, data)
    except SchemaValidationError as exc:
        if any(path.split(".")[0] in PAGING_FIELDS for path in exc.errors):
            raise InvalidParameterError(exc.errors) from None
        raise
