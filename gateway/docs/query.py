"""The API's query keys: lowerCamelCase as the API Design Rules require
(``/core/query-keys-camel-case``), with the snake_case keys of API.md v1 kept as deprecated
aliases so that no partner of v1 breaks (``/core/deprecation-schedule``).

One table serves the two sides: the OpenAPI document builder describes each alias as
deprecated on its documented key, and the views read a key through :func:`query_value`,
which accepts the alias, refuses the two forms at once with different values (400
``invalid_parameter``: which one the caller meant is not ours to guess) and marks the
request, so that :mod:`gateway.http` answers it with ``Deprecation`` and ``Sunset``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime

from flask import g

from ..problems import InvalidParameter

DEPRECATED_ALIASES: dict[str, str] = {
    "messageType": "message_type",
    "treeSize": "tree_size",
    "fromSize": "from_size",
    "toSize": "to_size",
    "schoolYear": "school_year",
}
"""Documented key -> its deprecated alias (the key of API.md v1)."""

DEPRECATED_SINCE = datetime(2026, 12, 7, tzinfo=UTC)
"""When the aliases were deprecated: the release that documented the camelCase keys."""
SUNSET = datetime(2027, 12, 31, tzinfo=UTC)
"""Not before: a year of transition (``/core/transition-period``); removing the aliases is
a breaking change, so they go with the next major version (``/api/v2``), not before this."""
DEPRECATION_LINK = "/api/v1/docs"

DEPRECATION_HEADERS: dict[str, str] = {
    # RFC 9745: a structured-field Date, seconds since the epoch
    "Deprecation": f"@{int(DEPRECATED_SINCE.timestamp())}",
    # RFC 8594: an HTTP-date
    "Sunset": format_datetime(SUNSET, usegmt=True),
    "Link": f'<{DEPRECATION_LINK}>; rel="deprecation"; type="text/html"',
}


def query_value(args: Mapping[str, str], name: str) -> tuple[str, str | None]:
    """The value of the documented key ``name`` and the key the caller used for it (so a
    refusal names what was sent); the deprecated alias counts when the key is absent."""
    value = args.get(name)
    alias = DEPRECATED_ALIASES.get(name)
    if alias is None or alias not in args:
        return name, value
    g.deprecation_headers = DEPRECATION_HEADERS  # a refusal tells of the deprecation too
    old = args.get(alias)
    if value is not None and value != old:
        message = f"Send {name} only; {alias} is its deprecated alias and says otherwise."
        raise InvalidParameter(f"{name}: {message}", errors={name: [message]})
    return (name, value) if value is not None else (alias, old)


def alias_description(name: str) -> str | None:
    """The sentence that documents a key's deprecated alias, or None."""
    alias = DEPRECATED_ALIASES.get(name)
    if alias is None:
        return None
    return (
        f"Deprecated alias: `{alias}` (API.md v1) is accepted until at least "
        f"{SUNSET.date().isoformat()} (and removed only with /api/v2), each answer then carrying "
        "`Deprecation`, `Sunset` and `Link` headers; sending both keys with different values "
        "is 400 `invalid_parameter`."
    )
