"""The inbox item: the JSON a recipient gets for one message, pulled or pushed.

``GET /api/v1/inbox`` (:meth:`gateway.exchange.service.ExchangeService.inbox`) and the push
delivery give the recipient one shape to parse (API.md section 4), so it is built here only.
"""

from __future__ import annotations

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
