"""The verifier's fast path: one loop over a batch of valid rows, fewer string searches.

:class:`gateway.audit.verify.ChainVerifier` makes, per row, a dozen separate checks (the hash,
``seq``, ``prev_hash``, eight filter columns, the subject commitment). On a valid log every one
of them holds, so this module first asks a cheaper question that implies them all; only
when its answer is "not sure" do the separate checks run, and they alone write the report.
A fast "yes" must therefore never be given where a separate check would fail, and each test
here contains the separate check's search string:

- the members of an event are written in RFC 8785 order (sorted names) and every event
  has the same members (:meth:`gateway.audit.log.AuditEvent.document`), so some are always
  neighbours: ``decision``/``exchange_id``, ``message_type``/``prev_hash`` and
  ``recipient``/``sender``/``seq``. One search for the neighbours joined as written finds
  each member's own search string inside it (``"recipient":R,"sender":S,"seq":N,`` contains
  ``"recipient":R``, ``"sender":S`` and ``,"seq":N,``);
- ``action`` is the first member, so ``{"action":"A"`` at the start contains ``"action":"A"``;
- ``org`` and ``at`` are searched alone, as before (``at`` formatted by the same
  :func:`at_text`); the commitment is opened as before;
- a search string found at a given position (where it stood in the row before) is in the
  row.

A row written otherwise (an older event, a member added one day between two neighbours)
only takes the separate checks, which decide exactly as before.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from .chain import commitment_of
from .commitment import opens
from .log import rfc3339

_sha256 = hashlib.sha256
_LEAF = hashlib.sha256(b"\x00")
"""SHA-256 fed the leaf prefix (RFC 9162), copied for each leaf."""


def at_text(value) -> str:
    """``at`` as the event states it; SQLite's driver gives text, psycopg a datetime."""
    if isinstance(value, str) and len(value) == 26 and value[10] == " ":
        return f"{value[:10]}T{value[11:]}Z"  # SQLAlchemy's SQLite form: naive UTC, microseconds
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return rfc3339(moment.astimezone(UTC))


def valid_leaves(rows, expected: int, previous: str) -> list[bytes] | None:
    """The leaf hashes of ``rows`` when every row is certainly valid: numbered from
    ``expected`` on, hashes of its stored bytes, linked to ``previous``, each filter column
    and the subject index agreeing with the hashed event. None: not sure, check separately.

    ``rows`` are ``(seq, canonical, hash, subject_ref, subject_opening, action, actor_org,
    sender, recipient, message_type, decision, exchange_id, at)``. A search string is first
    tried where it stood in the row before (counted from the start for members near it,
    from the end for the others): rows of one kind put it there, and a test at one
    position costs far less than a search through the row."""
    sha256 = _sha256
    leaf = _LEAF.copy
    leaves = []
    append = leaves.append
    at_org = at_at = at_decision = from_end_kind = from_end_recipient = 0
    for row in rows:
        seq, c, digest, ref, opening, action, org, sender, recipient, kind, decision, xid, at = row
        data = c.encode()
        if not (
            seq == expected
            and sha256(data).hexdigest() == digest
            and c.startswith(f'{{"action":"{action}"')
            and (ref is None and opening is None or opens(commitment_of(c), ref, opening))
        ):
            return None
        if at.__class__ is str and len(at) == 26 and at[10] == " ":
            at = f'"at":"{at[:10]}T{at[11:]}Z"'
        else:
            at = f'"at":"{at_text(at)}"'
        org = '"org":null' if org is None else f'"org":"{org}"'
        xid = "null" if xid is None else f'"{xid}"'
        kind = "null" if kind is None else f'"{kind}"'
        recipient = "null" if recipient is None else f'"{recipient}"'
        sender = "null" if sender is None else f'"{sender}"'
        if not c.startswith(org, at_org):
            at_org = c.find(org)
            if at_org < 0:
                return None
        if not c.startswith(at, at_at):
            at_at = c.find(at)
            if at_at < 0:
                return None
        decision = f'"decision":"{decision}","exchange_id":{xid}'
        if not c.startswith(decision, at_decision):
            at_decision = c.find(decision)
            if at_decision < 0:
                return None
        size = len(c)
        kind = f'"message_type":{kind},"prev_hash":"{previous}"'
        if not c.startswith(kind, size - from_end_kind):
            found = c.rfind(kind)
            if found < 0:
                return None
            from_end_kind = size - found
        recipient = f'"recipient":{recipient},"sender":{sender},"seq":{seq},'
        if not c.startswith(recipient, size - from_end_recipient):
            found = c.rfind(recipient)
            if found < 0:
                return None
            from_end_recipient = size - found
        hashed = leaf()
        hashed.update(data)
        append(hashed.digest())
        expected += 1
        previous = digest
    return leaves
