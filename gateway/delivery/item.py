"""The pushed body: the same inbox item a recipient gets from ``GET /api/v1/inbox``.

Pushing and pulling give the recipient one shape to parse (API.md section 4): the item is built
by :func:`gateway.exchange.items.inbox_item` for both; this module only fixes the bytes that are
signed and sent. The end-to-end tests compare a pushed body with the pulled item of the same
message, field by field.
"""

from __future__ import annotations

import json


def encode(item: dict) -> bytes:
    """The exact bytes that are signed and sent: compact UTF-8 JSON."""
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
