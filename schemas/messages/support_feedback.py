"""``support_feedback``: the WIJ team tells the school whether it is involved.

Only the state of involvement travels back, never what the team learned.
"""

from __future__ import annotations

from schemas.contact import ContactSchema
from schemas.dates import DatedSchema
from schemas.fields import Choice, Object
from schemas.messages.reference import ExchangeReference
from schemas.vocabulary import INVOLVEMENTS


class SupportFeedbackSchema(DatedSchema):
    """Payload of ``support_feedback``; it has no dates, ``today=`` is accepted for symmetry."""

    in_reply_to = ExchangeReference()
    involvement = Choice(INVOLVEMENTS, required=True)
    contact = Object(ContactSchema, required=True)
