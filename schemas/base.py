"""Schema base classes and the one function that turns marshmallow errors into ours.

Request schemas refuse unknown fields at every level (API.md section 3: "Unknown fields
anywhere -> 422"). Response schemas exist only to document answers in the OpenAPI document;
they are left open so that an additive extension of an answer is not a breaking change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError

from schemas.errors import SchemaValidationError, flatten_errors


class StrictSchema(Schema):
    """A request body or part of one: unknown members are refused, messages are ours."""

    class Meta:
        unknown = RAISE

    error_messages = {
        "type": "Must be a JSON object.",
        "unknown": "Unknown field; it is not part of this message.",
    }


class ResponseSchema(Schema):
    """The documented shape of an answer; never used to read untrusted input."""

    class Meta:
        unknown = EXCLUDE


def load_with(schema: Schema, data: object, prefix: str = "") -> dict[str, Any]:
    """Load ``data`` with ``schema`` and return JSON-ready primitives.

    Failures become a ``SchemaValidationError`` whose paths start with ``prefix``. The
    marshmallow exception is not chained: it holds the input, which may contain a BSN.
    """
    try:
        loaded = schema.load(data)  # type: ignore[arg-type]
    except ValidationError as exc:
        errors = flatten_errors(exc.messages, prefix)
    else:
        return json_ready(loaded)
    raise SchemaValidationError(errors)


def json_ready(value: Any) -> Any:
    """Dates become ``YYYY-MM-DD`` and times RFC 3339 UTC strings, so results store as JSON."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    return value
