"""What an organisation already knows of a child, read from the audit index.

API.md section 13 rule 2: a partner may confirm a BSN only if it already received that
child's BSN from the gateway or sent it. Every audit event names, in its ``subject_clear_to``
index, the organisations that named the child's BSN in it or received it in clear, so "did
this organisation ever have this child's BSN?" is one indexed lookup by the child's audit
pseudonyms (one per key version).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import AuditEventRow


def bsn_known_to(session: Session, oin: str, audit_refs: tuple[str, ...]) -> bool:
    """Whether organisation ``oin`` named or received in clear the child of ``audit_refs``."""
    if not audit_refs:
        return False
    found = session.scalar(
        select(AuditEventRow.seq)
        .where(
            AuditEventRow.subject_ref.in_(audit_refs),
            AuditEventRow.subject_clear_to.contains(f",{oin},"),
        )
        .limit(1)
    )
    return found is not None
