"""The verifier's fast path (gateway.audit.verify_batch): it takes the rows the gateway writes,
of every shape, and it never passes a batch that the separate checks (which write the
report) fail, whatever a column or the stored bytes were changed to."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from gateway.audit import merkle
from gateway.audit.chain import GENESIS_HASH
from gateway.audit.checkpoints import checkpointer_for
from gateway.audit.log import AuditEvent, AuditLog
from gateway.audit.verify import _ROWS_SQL, _index_problem, _links_hold, _Pass
from gateway.audit.verify_batch import valid_leaves
from gateway.config import Settings
from gateway.keys import KeyStore
from gateway.storage.database import Database

SCHOOL = "00000001001234567000"
GGD = "00000001003456789000"
EVENTS = [
    AuditEvent(
        "exchange.send",
        "allowed",
        actor_org=SCHOOL,
        actor_client_id="sis",
        sender=SCHOOL,
        recipient=GGD,
        message_type="absence_report",
        purpose="leerplicht_enforcement",
        exchange_id="7c9e6679-7425-40de-944b-e07fc1f90ae7",
        subject_ref="S" * 35,
        legal_basis={"type": "legal_obligation", "citation": "Leerplichtwet 1969 art. 21a"},
        fields_forwarded=["absence_type"],
        fsc_transaction_id="tx-1",
    ),
    AuditEvent("exchange.send", "denied", actor_org=SCHOOL, reason="no route", sender=SCHOOL),
    AuditEvent("audit.verify", "allowed", actor_user="operator"),  # no organisation, no child
    AuditEvent(
        "exchange.read",
        "allowed",
        actor_org=GGD,
        actor_client_id="ggd-app",
        exchange_id="0190f1c4-7a2b-7c3d-8e4f-5a6b7c8d9e0f",
        recipient=GGD,
        subject_ref="T" * 35,
    ),
]


@pytest.fixture
def rows(database_url, keys_dir) -> list[tuple]:
    """Rows of every shape as the verifier reads them (``at`` is text on SQLite, a datetime
    on PostgreSQL), one of them shredded (no subject index, as after the retention purge)."""
    db = Database(database_url)
    keys = KeyStore(keys_dir, allow_generate=False)
    log = AuditLog(checkpointer_for(keys.audit_key, Settings().base_url))
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with db.write_session() as session:
        for number in range(24):
            log.append(session, EVENTS[number % len(EVENTS)], start + timedelta(seconds=number))
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE audit_events SET subject_ref = NULL, subject_opening = NULL WHERE seq = 5"
        )
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        statement = _ROWS_SQL.replace("%s", "?") if db.is_sqlite else _ROWS_SQL
        cursor.execute(statement, (24,))
        found = [tuple(row) for row in cursor.fetchall()]
    finally:
        raw.close()
        db.dispose()
    return found


def separate_checks_pass(rows: list[tuple]) -> bool:
    state = _Pass(0)
    seqs, canonicals, stored = zip(*(row[:3] for row in rows), strict=True)
    datas = [canonical.encode() for canonical in canonicals]
    return _links_hold(state, seqs, canonicals, stored, datas) and _index_problem(rows) is None


def test_rows_of_every_shape_take_the_fast_path(rows):
    assert separate_checks_pass(rows)
    leaves = valid_leaves(rows, 1, GENESIS_HASH)
    assert leaves == [merkle.leaf_hash(row[1].encode()) for row in rows]


def _rehash(row: list) -> None:
    row[2] = hashlib.sha256(row[1].encode()).hexdigest()


def _column(rows, index, column, choice):
    row = list(rows[index])
    value = row[column]
    others = [other[column] for other in rows if other[column] != value]
    if column == 0:
        row[0] = value + (1 if choice % 2 else -1)
    elif choice == 0 or not others:
        row[column] = None
    elif choice == 1:
        row[column] = others[0]
    else:
        shown = value if isinstance(value, str) else str(value)
        row[column] = shown[:-1] if choice == 2 else shown + "0"
    return index, row


def _bytes(rows, index, position, cut, inserted, rehash):
    row = list(rows[index])
    canonical = row[1]
    position %= len(canonical) + 1
    row[1] = canonical[:position] + inserted + canonical[position + cut :]
    if rehash:
        _rehash(row)
    return index, row


MEMBERS = [
    "seq",
    "prev_hash",
    "action",
    "at",
    "decision",
    "exchange_id",
    "message_type",
    "recipient",
    "sender",
    "subject_commitment",
    "org",
]


def _member(rows, index, member):
    """One checked member of the hashed event given another value, written canonically and
    re-hashed: only the comparison with its column (or the chain) can tell."""
    row = list(rows[index])
    event = json.loads(row[1])
    holder = event["actor"] if member == "org" else event
    value = holder[member]
    if isinstance(value, int):
        holder[member] = value + 1
    elif value is None:
        holder[member] = "00000001009999999000"
    else:
        holder[member] = value[:-1] + ("1" if value[-1] != "1" else "2")
    row[1] = rfc8785.dumps(event).decode()
    _rehash(row)
    return index, row


def _reformatted(rows, index, swap):
    """The same event written as other JSON (spaces, another member order), re-hashed."""
    row = list(rows[index])
    event = json.loads(row[1])
    if swap:
        event = dict(reversed(list(event.items())))
    row[1] = json.dumps(event, separators=(", ", ": ") if not swap else (",", ":"))
    _rehash(row)
    return index, row


def test_the_fast_path_never_passes_what_the_separate_checks_fail(rows):
    """Whatever one row becomes, the fast path either declines (None) or the separate
    checks pass as well: it can make verification faster, never more lenient. (An ``at``
    that is no time fails both alike.)"""
    columns = st.integers(min_value=0, max_value=12).filter(lambda column: column not in (1, 2))
    change = st.one_of(
        st.builds(
            _column, st.just(rows), st.integers(0, len(rows) - 1), columns, st.integers(0, 3)
        ),
        st.builds(
            _bytes,
            st.just(rows),
            st.integers(0, len(rows) - 1),
            st.integers(0, 2000),
            st.integers(0, 40),
            st.text(alphabet='"{}[]:,.-0123456789abcdefnulrTZ ', max_size=12),
            st.booleans(),
        ),
        st.builds(_member, st.just(rows), st.integers(0, len(rows) - 1), st.sampled_from(MEMBERS)),
        st.builds(_reformatted, st.just(rows), st.integers(0, len(rows) - 1), st.booleans()),
    )

    @given(change)
    def check(changed_row):
        index, row = changed_row
        changed = [*rows[:index], tuple(row)]  # the changed row last: a re-hashed row's
        # successor would otherwise fail on its link before the row's own checks counted
        try:
            leaves = valid_leaves(changed, 1, GENESIS_HASH)
        except (TypeError, ValueError, AttributeError) as exc:  # an ``at`` no clock wrote
            with pytest.raises(type(exc)):
                separate_checks_pass(changed)
            return
        if leaves is not None:
            assert separate_checks_pass(changed), row

    check()
