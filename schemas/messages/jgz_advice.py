"""``jgz_advice``: the GGD's youth doctor answers a referral with attendance advice.

There is deliberately no field for a diagnosis: the school needs to know what is possible,
not why.
"""

from __future__ import annotations

from schemas.contact import ContactSchema
from schemas.dates import DatedSchema, TodayOrLaterDate
from schemas.fields import Choice, Object
from schemas.messages.reference import ExchangeReference
from schemas.vocabulary import JGZ_ADVICE


class JgzAdviceSchema(DatedSchema):
    """Payload of ``jgz_advice``; construct with ``today=`` to check ``follow_up_date``."""

    in_reply_to = ExchangeReference()
    advice = Choice(JGZ_ADVICE, required=True)
    follow_up_date = TodayOrLaterDate()
    contact = Object(ContactSchema, required=True)
