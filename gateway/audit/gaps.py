"""A rewound audit log (a database restore): detected, recorded once, shown, acknowledged.

:class:`~gateway.audit.witness.Witness` says whether the log still extends the newest
checkpoint the gateway published. This module acts on its answer for the readers' service:

- every gap is recorded as its own audit event ``audit.gap_detected`` (the published size and
  root and the log's size; no child data), once: under the append lock the log is searched
  for that gap's event first, so many processes and many requests write it once, and a second
  restore that loses the event writes it again;
- the checkpoint endpoint shows the gap to partners, and after the acknowledgement the
  rewinds that were acknowledged;
- ``gateway audit acknowledge-gap --reason`` records ``audit.gap_acknowledged`` with the
  operator's reason, signs the head and moves the witness there: proofs are given again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from ..clock import Clock
from ..storage.database import Database
from .actors import Actor
from .checkpoints import Checkpointer, checkpoint_view
from .log import AuditEvent, AuditLog
from .models import AuditEventRow
from .witness import AuditLogRewound, Gap

log = logging.getLogger(__name__)

GAP_DETECTED = "audit.gap_detected"
GAP_ACKNOWLEDGED = "audit.gap_acknowledged"
DETECTOR = "gateway"
"""``actor.user`` of the detection: the gateway noticed it itself, on nobody's behalf."""
REASON_LIMIT = 500


def marker(gap: Gap) -> str:
    """The start of both events' ``reason``: which published checkpoint was lost."""
    return f"published checkpoint {gap.published_size} {gap.published_root}"


def _timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(eq=False)
class GapWatch:
    """The readers' side of the witness; one per :class:`AuditService`."""

    db: Database
    audit: AuditLog
    clock: Clock
    checkpointer: Checkpointer
    _recorded: set[tuple[int, str]] = field(default_factory=set)

    def current(self) -> Gap | None:
        """The open gap (recorded as an event once), or None."""
        gap = self.checkpointer.gap(self.db)
        if gap is not None:
            self._record_once(gap)
        return gap

    def require_none(self) -> None:
        """Raise :class:`AuditLogRewound` (503) while a gap is open."""
        gap = self.current()
        if gap is not None:
            raise AuditLogRewound(gap)

    def _record_once(self, gap: Gap) -> None:
        key = (gap.published_size, gap.published_root)
        if key in self._recorded:
            return
        # the event is written after the published checkpoint was signed: search from then
        # (an hour earlier, for clocks that differ between processes), over the index on ``at``
        since = _timestamp(gap.published["timestamp"]) - timedelta(hours=1)
        with self.db.write_session() as session:
            session.execute(AuditLog.LOCK_HEAD)
            found = session.scalars(
                select(AuditEventRow.canonical).where(
                    AuditEventRow.at >= since, AuditEventRow.action == GAP_DETECTED
                )
            ).all()
            if not any(
                (json.loads(canonical).get("reason") or "").startswith(marker(gap))
                for canonical in found
            ):
                event = AuditEvent(
                    action=GAP_DETECTED,
                    decision="allowed",
                    actor_user=DETECTOR,
                    reason=f"{marker(gap)}; {gap.kind}: the log had {gap.log_size} entries",
                )
                self.audit.append(session, event, self.clock())
                log.error(
                    "audit log rewound: %s; proofs are refused until "
                    "'gateway audit acknowledge-gap --reason ...'",
                    gap.describe(),
                )
        self._recorded.add(key)

    def checkpoint(self) -> dict:
        """The checkpoint endpoint's answer: the newest checkpoint (signed first if none
        covers the head) and no gap; or, while the log is rewound below a published
        checkpoint, no checkpoint and the gap. ``rewinds`` lists the acknowledged gaps."""
        gap = self.current()
        row = None if gap is not None else self.checkpointer.ensure(self.db)
        with self.db.session() as session:
            rewinds = self.checkpointer.witness.rewinds(session)
        return {
            "checkpoint": checkpoint_view(row) if row is not None else None,
            "gap": gap.as_dict() if gap is not None else None,
            "rewinds": rewinds,
        }

    def acknowledge(self, actor: Actor, reason: str) -> dict | None:
        """The operator acknowledges the open gap (None: there is none): recorded as
        ``audit.gap_acknowledged`` with ``reason``, then the head is signed and published."""
        reason = " ".join(reason.split())
        if not reason:
            raise ValueError("a reason is required")
        if len(reason) > REASON_LIMIT:
            raise ValueError(f"the reason is longer than {REASON_LIMIT} characters")
        gap = self.current()
        if gap is None:
            return None
        event = actor.event(GAP_ACKNOWLEDGED, reason=f"{marker(gap)}; {reason}")
        with self.db.write_session() as session:
            self.audit.append(session, event, self.clock())
        row, rewind = self.checkpointer.resume_after(self.db, gap, self.clock())
        self._recorded.discard((gap.published_size, gap.published_root))
        return {"gap": gap.as_dict(), "checkpoint": checkpoint_view(row), "rewind": rewind}
