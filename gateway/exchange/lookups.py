"""The send pipeline's four reads in one statement (issue 23).

Steps 4 to 8 of a send (API.md section 4) each read one row: the idempotency record of
(sender, key), the recipient organisation by OIN, the recipient the sender's transaction id is
bound to, and the route policy of (message type, sender type, recipient type). All of their
inputs are known once the body is read (step 3), so :func:`fetch` reads all four rows in one
statement at step 4, one round trip and one execution where there were four (each was about
as costly as the statement itself, issue 23's profile). The steps still *decide* in their own
order, each from its own row: a refusal is the one it always was, and nothing about the
child is read here (no key, route or organisation depends on the subject).

Each row is kept with the inputs it was read for. A step whose inputs differ (a role address
resolved to an organisation the body did not name, a case's own steps) reads its row itself,
as it did before; :data:`NOT_READ` says so.

Read in one statement, the four rows agree with each other as of one moment; read one by one
each saw the data committed when it ran. Neither is a snapshot the store relies on: the store
writes under unique constraints and answers a concurrent conflict itself.
"""

from __future__ import annotations

import re
from collections import namedtuple
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, literal_column, select
from sqlalchemy.orm import Session

from ..storage import direct
from ..storage.models import Organisation
from .models import IdempotencyKey, RoutePolicyRow, TransactionRecipient

_OIN = re.compile(r"[0-9]{20}")
_TYPE = re.compile(r"[A-Za-z0-9_.-]{1,64}")

NOT_READ = object()
"""A row this fetch did not read (other inputs than the step's): the step reads it itself."""

_STORED = ("request_hash", "response", "expires_at")
_RECIPIENT = ("id", "oin", "type", "name", "status", "polymorphic")
_ROUTE = tuple(column.name for column in RoutePolicyRow.__table__.columns)

_key = IdempotencyKey.__table__
_org = Organisation.__table__
_bound = TransactionRecipient.__table__
_route = RoutePolicyRow.__table__
_anchor = select(literal_column("1").label("one")).subquery("anchor")

_FETCH = select(
    *(_key.c[name].label(f"k_{name}") for name in _STORED),
    *(_org.c[name].label(f"o_{name}") for name in _RECIPIENT),
    _bound.c.recipient_org_id.label("b_recipient_org_id"),
    *(_route.c[name].label(f"r_{name}") for name in _ROUTE),
).select_from(
    _anchor.outerjoin(
        _key, and_(_key.c.org_id == bindparam("sender_id"), _key.c.key == bindparam("key"))
    )
    .outerjoin(_org, _org.c.oin == bindparam("oin"))
    .outerjoin(
        _bound,
        and_(
            _bound.c.sender_org_id == bindparam("sender_id"),
            _bound.c.fsc_transaction_id == bindparam("transaction_id"),
        ),
    )
    .outerjoin(
        _route,
        and_(
            _route.c.message_type == bindparam("message_type"),
            _route.c.sender_type == bindparam("sender_type"),
            _route.c.recipient_type == _org.c.type,
        ),
    )
)
"""Built once (module docstring); every join is on a unique key, so it yields one row."""
_RECIPIENT_AT = len(_STORED)
_BOUND_AT = _RECIPIENT_AT + len(_RECIPIENT)
"""Where each part starts in that row: the stored record's columns, the recipient's, the
binding's one, the route's."""

StoredRow = namedtuple("StoredRow", _STORED)
RecipientRow = namedtuple("RecipientRow", _RECIPIENT)
RouteRow = namedtuple("RouteRow", _ROUTE)


@dataclass(frozen=True)
class Lookups:
    """The rows :func:`fetch` read, each with the inputs it was read for."""

    sender_id: int | None
    key: str | None
    stored: StoredRow | None
    oin: str | None
    recipient: RecipientRow | None
    transaction_id: str | None
    bound_recipient_id: int | None
    route_inputs: tuple[str | None, str | None, str | None]
    route: RouteRow | None

    def stored_for(self, sender_id: int, key: str):
        """The idempotency record's row (or None), or :data:`NOT_READ`."""
        return self.stored if (sender_id, key) == (self.sender_id, self.key) else NOT_READ

    def recipient_for(self, oin: str):
        """The organisation with this OIN (or None), or :data:`NOT_READ`."""
        return self.recipient if oin == self.oin and oin is not None else NOT_READ

    def bound_for(self, sender_id: int, transaction_id: str):
        """The recipient id this sender's transaction id is bound to (or None), or
        :data:`NOT_READ`."""
        if (sender_id, transaction_id) != (self.sender_id, self.transaction_id):
            return NOT_READ
        return self.bound_recipient_id

    def route_for(self, message_type: str, sender_type: str, recipient_type: str):
        """The route policy's row (or None), or :data:`NOT_READ`."""
        wanted = (message_type, sender_type, recipient_type)
        if self.route_inputs != wanted or None in wanted:
            return NOT_READ
        return self.route


NOTHING = Lookups(None, None, None, None, None, None, None, (None, None, None), None)
"""No row read (an exchange whose steps begin after step 4): every step reads its own."""


def fetch(
    session: Session,
    sender_id: int,
    sender_type: str,
    key: str,
    oin: str | None,
    transaction_id: str | None,
    message_type: str | None,
) -> Lookups:
    """Read the four rows of a send (module docstring) in one statement. ``oin`` and
    ``message_type`` are the body's values as sent, not yet validated: only a value of their
    syntax is sent to the database (a number, an object, a NUL or a lone surrogate would make
    the driver fail before the envelope's step could answer 400), any other reads nothing."""
    oin = oin if isinstance(oin, str) and _OIN.fullmatch(oin) else None
    if not (isinstance(message_type, str) and _TYPE.fullmatch(message_type)):
        message_type = None
    row = direct.execute(
        session,
        _FETCH,
        {
            "sender_id": sender_id,
            "key": key,
            "oin": oin,
            "transaction_id": transaction_id,
            "message_type": message_type,
            "sender_type": sender_type,
        },
    ).one()
    stored = StoredRow(*row[:_RECIPIENT_AT]) if row.k_request_hash is not None else None
    recipient = RecipientRow(*row[_RECIPIENT_AT:_BOUND_AT]) if row.o_id is not None else None
    route = RouteRow(*row[_BOUND_AT + 1 :]) if row.r_id is not None else None
    return Lookups(
        sender_id=sender_id,
        key=key,
        stored=stored,
        oin=oin,
        recipient=recipient,
        transaction_id=transaction_id,
        bound_recipient_id=row.b_recipient_org_id,
        route_inputs=(message_type, sender_type, recipient.type if recipient else None),
        route=route,
    )
