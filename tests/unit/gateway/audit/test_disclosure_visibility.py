"""Who reads a pact disclosure (``case.disclose``, issue 20): the organisation that learned
(the event's recipient), whoever acted, and the operator; not the organisation learned of
(the sender), which would otherwise learn of the learner in turn. An escalation tells its
holder that a school is involved; the school must not read that the holder knows of it.

Checked on both sides of the visibility rule: the SQL clause the searches use and the
per-event check that guards what is served."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from gateway.audit.log import AuditEvent, AuditLog
from gateway.audit.models import AuditEventRow
from gateway.audit.search import concerns, partner_visibility
from gateway.storage.database import Database

OPERATOR = "00000001006789012000"
SCHOOL = "00000001001234567000"  # learned of
HOLDER = "00000001002345678000"  # learner
OTHER = "00000001004567890000"
AT = datetime(2027, 2, 22, 4, 0, tzinfo=UTC)


def test_a_disclosure_is_read_by_its_learner_and_actor_not_by_the_organisation_learned_of(
    sqlite_url,
):
    db = Database(sqlite_url)
    log = AuditLog()
    try:
        with db.write_session() as session:
            common = {"decision": "allowed", "sender": SCHOOL, "recipient": HOLDER}
            log.append(
                session, AuditEvent(action="case.disclose", actor_org=OPERATOR, **common), AT
            )
            log.append(session, AuditEvent(action="exchange.send", actor_org=SCHOOL, **common), AT)
        with db.session() as session:
            rows = session.execute(select(AuditEventRow.seq, AuditEventRow.canonical)).all()
            seen = {
                oin: [
                    json.loads(canonical)["action"]
                    for _, canonical in session.execute(
                        select(AuditEventRow.seq, AuditEventRow.canonical)
                        .where(partner_visibility(oin))
                        .order_by(AuditEventRow.seq)
                    ).all()
                ]
                for oin in (SCHOOL, HOLDER, OPERATOR, OTHER)
            }
    finally:
        db.dispose()
    assert seen == {
        SCHOOL: ["exchange.send"],
        HOLDER: ["case.disclose", "exchange.send"],
        OPERATOR: ["case.disclose"],
        OTHER: [],
    }
    events = [json.loads(canonical) for _, canonical in rows]
    for oin, actions in seen.items():
        assert [e["action"] for e in events if concerns(e, oin)] == actions, oin
