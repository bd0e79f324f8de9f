"""The pushed body: the same inbox-item JSON a recipient gets from ``GET /api/v1/inbox``.

Pushing and pulling give the recipient one shape to parse (API.md section 4). The end-to-end
tests compare a pushed body with the pulled item of the same message, field by field, so the
two cannot drift apart unnoticed.
"""

from __future__ import annotations

import json

from ..audit.log import rfc3339
from ..clock import aware


def inbox_item(message, sender: dict, content: dict) -> dict:
    """The inbox item of ``message`` (a ``Message`` or a claimed row with the same fields).

    ``sender`` is ``{"oin", "name", "type"}``; ``content`` the opened ciphertext
    (``{"subject", "payload"}``).
    """
    return {
        "id": message.id,
        "message_type": message.message_type,
        "sender": sender,
        "subject": content["subject"],
        "payload": content["payload"],
        "purpose": message.purpose,
        "legal_basis": message.legal_basis,
        "created_at": rfc3339(aware(message.created_at)),
        "fsc_transaction_id": message.fsc_transaction_id,
    }


def encode(item: dict) -> bytes:
    """The exact bytes that are signed and sent: compact UTF-8 JSON."""
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
