"""Errors raised by the schemas package, each with a stable ``code``.

The gateway keeps one table from exception class to HTTP status (``gateway/errors.py``);
this module only names the failures. Validation errors carry a flat map from dotted field
path to messages because that is the shape the problem+json ``errors`` member has (API.md
section 1), and flattening in one place keeps every endpoint's paths alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


class SchemaError(Exception):
    """Base class of every error this package raises on purpose."""

    code: str = "schema_error"


class SchemaValidationError(SchemaError):
    """A body or payload broke the contract; ``errors`` says where and why.

    Messages never repeat the offending value: a BSN may be in it, and these messages are
    returned to callers and may be logged.
    """

    code = "validation_failed"

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        self.errors: dict[str, list[str]] = {path: list(msgs) for path, msgs in errors.items()}
        super().__init__("validation failed at: " + ", ".join(sorted(self.errors)))


class InvalidParameterError(SchemaValidationError):
    """A paging parameter (``cursor``, ``limit``) in a search body is malformed.

    API.md section 1 answers these with 400 ``invalid_parameter`` rather than 422, for GET
    query parameters and POST search bodies alike, so they get their own class.
    """

    code = "invalid_parameter"


class ProfileError(SchemaError):
    """A recipient minimisation profile (configuration, not a request) is malformed."""

    code = "invalid_profile"


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested error structure into ``{dotted.path: [messages]}``.

    Nested schemas give nested dicts, lists give integer keys (``concern_categories.0``) and
    schema-level errors sit under ``_schema``; the latter belong to the enclosing path (for
    ``subject`` that is ``subject`` itself). An error about the whole body, with no prefix,
    is reported under ``body``. Messages are de-duplicated, order kept.

    Every field the contract defines is a short identifier, so any other key is an unknown
    member chosen by the sender; it is reported at the enclosing path rather than echoed,
    since a sender could use a BSN as a key.
    """
    flat: dict[str, list[str]] = {}
    _flatten_into(flat, messages, prefix)
    return flat


def _flatten_into(flat: dict[str, list[str]], messages: Any, path: str) -> None:
    if isinstance(messages, Mapping):
        for key, nested in messages.items():
            if key == "_schema" or not _is_path_segment(key):
                child = path
            else:
                child = f"{path}.{key}" if path else str(key)
            _flatten_into(flat, nested, child)
        return
    if isinstance(messages, str):
        _add(flat, path, messages)
        return
    if isinstance(messages, (list, tuple)):
        for item in messages:
            _flatten_into(flat, item, path)
        return
    _add(flat, path, str(messages))


def _is_path_segment(key: object) -> bool:
    if isinstance(key, int) and not isinstance(key, bool):
        return True
    return isinstance(key, str) and _FIELD_NAME.fullmatch(key) is not None


def _add(flat: dict[str, list[str]], path: str, message: str) -> None:
    bucket = flat.setdefault(path or "body", [])
    if message not in bucket:
        bucket.append(message)
