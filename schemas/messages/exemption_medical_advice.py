"""``exemption_medical_advice``: the GGD's designated physician answers leerplicht's request
for advice on an exemption (Leerplichtwet 1969 art. 7 lid 1 onder a).

Only the outcome travels: there is deliberately no field for a diagnosis or a reason, as for
``jgz_advice``. ``in_reply_to`` (required) is the request the GGD received.
"""

from __future__ import annotations

from schemas.contact import ContactSchema
from schemas.dates import DatedSchema, TodayOrLaterDate
from schemas.fields import Choice, Object
from schemas.messages.reference import ExchangeReference
from schemas.vocabulary import MEDICAL_ADVICE


class ExemptionMedicalAdviceSchema(DatedSchema):
    """Payload of ``exemption_medical_advice``; construct with ``today=``."""

    in_reply_to = ExchangeReference(required=True)
    advice = Choice(MEDICAL_ADVICE, required=True)
    reassess_after = TodayOrLaterDate()
    contact = Object(ContactSchema, required=True)
