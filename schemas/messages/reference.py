"""``in_reply_to``: the id of an exchange the replying organisation received.

Whether the id refers to such an exchange is decided by the pipeline, which answers 422
``unknown_reference`` for any id that does not (API.md section 3). The schema therefore only
checks that it is a short single-line string: a malformed id is simply an unknown reference.
"""

from __future__ import annotations

from typing import Any

from schemas.fields import Text


class ExchangeReference(Text):
    """An exchange id (the gateway issues UUIDs), at most 128 characters."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["metadata"] = {
            "description": "The id of an exchange your organisation received about this child.",
            **kwargs.get("metadata", {}),
        }
        super().__init__(max_length=128, **kwargs)
