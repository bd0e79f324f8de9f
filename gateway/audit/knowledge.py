"""What an organisation already had of a child, read from the audit index.

API.md section 13 rule 2: a partner may confirm a BSN only if it already received that
child's BSN from the gateway or sent it. Every audit event names, in its ``subject_clear_to``
index, the organisations that named the child's BSN in it or received it in clear. Only
*accepted* exchanges count as "had": the same index also names an organisation for a refused
request, a search or a consent it recorded, and a guesser can make any of those with any BSN
(it would then search again and see the answer change exactly when the guess was right).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import AuditEventRow


def bsn_received_or_sent(session: Session, oin: str, audit_refs: tuple[str, ...]) -> bool:
    """Whether ``oin`` received the child's BSN in clear, or sent it, in an accepted exchange;
    ``audit_refs`` are the child's audit pseudonyms under every key version held."""
    if not audit_refs:
        return False
    found = session.scalar(
        select(AuditEventRow.seq)
        .where(
            AuditEventRow.subject_ref.in_(audit_refs),
            AuditEventRow.action == "exchange.send",
            AuditEventRow.decision == "allowed",
            AuditEventRow.subject_clear_to.contains(f",{oin},"),
        )
        .limit(1)
    )
    return found is not None
