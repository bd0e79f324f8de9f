"""A sender's ``Fsc-Transaction-Id`` reaches one recipient organisation only (API.md §13 rule 1).

The id is the sender's choice and is passed on with the delivered message (inbox item, push
body and header). Were one id passed to two recipients, say the leerplicht office (which gets
the BSN) and the SWV (which gets a pseudonym), the two could join their records on it. So the
first send of an id binds it to its recipient; a later send of the same id to another
recipient is refused with 409 ``transaction_id_reused``. The same id to the same recipient is
no reuse, and an idempotent replay never gets this far (it returns the stored answer).

:func:`judge` is the pipeline's early, read-only answer; :func:`claim` is the binding one,
inside the transaction that stores the message, so that of two concurrent sends (any two
processes) one is stored and the other refused, never both and never a 500.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from ..storage import direct
from .errors import TransactionIdReused
from .models import TransactionRecipient

_BOUND = select(TransactionRecipient.recipient_org_id).where(
    TransactionRecipient.sender_org_id == bindparam("sender_id"),
    TransactionRecipient.fsc_transaction_id == bindparam("transaction_id"),
)
_INSERT = insert(TransactionRecipient.__table__)
"""The statements of a send, built once (building a select cost more than running it, and the
ORM's bulk-insert path about 0.5 ms (profiled) a statement; issue 23)."""


def reused() -> TransactionIdReused:
    return TransactionIdReused(
        "This Fsc-Transaction-Id was already passed on to another recipient organisation; "
        "use a new transaction id for each recipient.",
        errors={"Fsc-Transaction-Id": ["already used for another recipient"]},
    )


def bound_recipient(session: Session, sender_id: int, transaction_id: str) -> int | None:
    """The recipient organisation this sender's id was passed on to, if any."""
    return direct.execute(
        session, _BOUND, {"sender_id": sender_id, "transaction_id": transaction_id}
    ).scalar()


def judge(bound: int | None, recipient_id: int) -> bool:
    """Refuse an id already passed on to another recipient (``bound``, as read by
    :func:`bound_recipient` or :mod:`gateway.exchange.lookups`; None: not bound); True when it
    is already bound to this one (a binding never changes, so the send's store need not bind
    it: :func:`bind`)."""
    if bound is not None and bound != recipient_id:
        raise reused()
    return bound is not None


def claim(
    session: Session, sender_id: int, transaction_id: str, recipient_id: int, now: datetime
) -> None:
    """Bind the id to the recipient in the storing transaction (refuse if bound elsewhere).

    A concurrent claim of the same id makes the insert (or the commit) raise
    ``IntegrityError``; the caller then looks again with :func:`bound_recipient`.
    """
    bound = bound_recipient(session, sender_id, transaction_id)
    if bound is None:
        direct.execute(
            session,
            _INSERT,
            {
                "sender_org_id": sender_id,
                "fsc_transaction_id": transaction_id,
                "recipient_org_id": recipient_id,
                "created_at": now,
            },
        )
    elif bound != recipient_id:
        raise reused()


def bind(
    session: Session, sender_id: int, transaction_id: str, recipient_id: int, now: datetime
) -> None:
    """Bind an id that :func:`judge` found unbound, in the storing transaction: the insert
    alone, one statement where :func:`claim` looks first (issue 23). A binding made since the
    check makes the insert (or the commit) raise ``IntegrityError``; the caller then looks
    again with :func:`bound_recipient` (another recipient: 409, this one: bound already)."""
    direct.execute(
        session,
        _INSERT,
        {
            "sender_org_id": sender_id,
            "fsc_transaction_id": transaction_id,
            "recipient_org_id": recipient_id,
            "created_at": now,
        },
    )
