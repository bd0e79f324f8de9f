"""Consent checks per second with 100,000 stored consents, on SQLite and PostgreSQL.

A check is what the exchange pipeline's legal-basis step does: ``ConsentService.check`` over
``SqlConsentStore`` (one indexed SELECT by child and purpose, rows mapped to records, the
decision in Python). The yardstick, in the same run and on the same database, is the bare
indexed lookup alone (``SELECT id FROM consents WHERE subject_ref = ? AND purpose = ?`` on a
pooled connection), so the ratio shows what the registry adds over the database's own cost.
``uses_index`` says whether the database's plan for the check's query names
``ix_consents_subject_purpose``.

PostgreSQL runs when ``GATEWAY_TEST_POSTGRES_URL`` or ``--postgres-url`` is given: a temporary
database is created next to it and dropped afterwards. Prints one JSON object. CI runs
``--tiny`` (2,000 consents, 200 checks, one run) only to keep the script working.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

from consent.interfaces import Party
from consent.service import ConsentService
from consent.subjects import DomainSubjects
from gateway.audit.log import AuditLog
from gateway.config import normalise_database_url
from gateway.consents.models import ConsentRow
from gateway.consents.store import SqlConsentStore
from gateway.sealing import CONSENT_DETAILS, Sealer
from gateway.storage import migrate
from gateway.storage.database import Database
from gateway.storage.models import Organisation
from pseudonymise import Bsn, DomainPseudonymiser, KeyRing, generate_valid_bsns

SCHOOL = Party("00000001001234567000", "school")
GGD = Party("00000001003456789000", "ggd")
TINY = {"size": 2_000, "checks": 200, "runs": 1}
INDEX = "ix_consents_subject_purpose"


class NoSigner:
    """Checks never sign; the service only needs the attribute."""

    def sign(self, claims: dict, token_type: str) -> str:
        raise NotImplementedError


def median_rate(run: Callable[[], None], count: int, runs: int) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
    return count / statistics.median(timings)


def populate(db: Database, refs: list[str], size: int) -> None:
    """``size`` consents: for each child a ``mazl`` and a ``support`` consent, all active."""
    with db.session() as session:
        session.add(Organisation(oin=SCHOOL.oin, name="School", type="school"))
        session.flush()
        org_id = session.scalars(select(Organisation.id)).one()
    now = datetime.now(UTC)
    receipt = "e" * 620  # about the size of a real compact JWS receipt
    rows = []
    for n in range(size):
        purpose = "mazl" if n % 2 == 0 else "support"
        rows.append(
            {
                "id": str(uuid.uuid4()),
                "subject_ref": refs[(n // 2) % len(refs)],
                "purpose": purpose,
                "parties": [SCHOOL.oin, "ggd" if purpose == "mazl" else "wij"],
                "grantor_roles": ["parent"],
                "valid_from": date(2020, 1, 1),
                "valid_until": date(2099, 12, 31),
                "evidence_method": "written",
                "recorded_by_org_id": org_id,
                "recorded_by_client_id": "bench",
                "created_at": now,
                "key_version": 1,
                "sealed": os.urandom(72),
                "receipt": receipt,
            }
        )
    with db.engine.begin() as connection:
        for start in range(0, len(rows), 5_000):
            connection.execute(insert(ConsentRow), rows[start : start + 5_000])


def uses_index(db: Database, ref: str) -> bool:
    query = "SELECT * FROM consents WHERE subject_ref = :ref AND purpose = 'mazl'"
    prefix = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN "
    with db.engine.connect() as connection:
        if not db.is_sqlite:
            connection.execute(text("ANALYZE consents"))
        plan = connection.execute(text(prefix + query), {"ref": ref}).all()
    return INDEX in " ".join(str(row) for row in plan)


def measure(url: str, size: int, checks: int, runs: int) -> dict:
    keyring = KeyRing.generate()
    pseudonymiser = DomainPseudonymiser(keyring)
    children = [Bsn(d) for d in generate_valid_bsns(max(size // 2, 1), seed=5)]
    subjects = DomainSubjects(pseudonymiser, "consent")
    refs = [subjects.refs(child)[0] for child in children]
    db = Database(url)
    try:
        migrate.upgrade(db.engine)
        started = time.perf_counter()
        populate(db, refs, size)
        populate_s = time.perf_counter() - started
        store = SqlConsentStore(db, Sealer(keyring, CONSENT_DETAILS), AuditLog(), pseudonymiser)
        service = ConsentService(store, NoSigner(), subjects, datetime.now, "bench")
        sample = random.Random(7).choices(refs, k=checks)
        at = datetime.now(UTC)

        def check_loop() -> None:
            for ref in sample:
                if not service.check(ref, "mazl", SCHOOL, GGD, at).allowed:
                    raise RuntimeError("a stored consent did not cover its exchange")

        lookup = text("SELECT id FROM consents WHERE subject_ref = :ref AND purpose = 'mazl'")

        def bare_loop() -> None:
            for ref in sample:
                with db.engine.connect() as connection:
                    connection.execute(lookup, {"ref": ref}).all()

        check_loop()  # warm caches and the pool outside the timing
        checks_per_s = median_rate(check_loop, checks, runs)
        bare_per_s = median_rate(bare_loop, checks, runs)
        return {
            "stored_consents": size,
            "populate_s": round(populate_s, 2),
            "uses_index": uses_index(db, refs[0]),
            "checks_per_s": round(checks_per_s),
            "bare_lookups_per_s": round(bare_per_s),
            "ratio_check_to_bare_lookup": round(checks_per_s / bare_per_s, 3),
        }
    finally:
        db.dispose()


def temporary_postgres(admin_url: str) -> tuple[str, Callable[[], None]]:
    admin = make_url(normalise_database_url(admin_url))
    name = f"bench_consent_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()

    return admin.set(database=name).render_as_string(hide_password=False), drop


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000, help="stored consents")
    parser.add_argument("--checks", type=int, default=5_000, help="checks per run")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--postgres-url", default=os.environ.get("GATEWAY_TEST_POSTGRES_URL"))
    parser.add_argument("--tiny", action="store_true", help="smoke run for CI: " + str(TINY))
    args = parser.parse_args(argv)
    config = dict(TINY) if args.tiny else {"size": args.size, "checks": args.checks,
                                           "runs": args.runs}
    if min(config.values()) < 1:
        parser.error("--size, --checks and --runs must be at least 1")
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="bench-consent-") as tmp:
        results["sqlite"] = measure(f"sqlite:///{Path(tmp, 'bench.db')}", **config)
    if args.postgres_url:
        url, drop = temporary_postgres(args.postgres_url)
        try:
            results["postgresql"] = measure(url, **config)
        finally:
            drop()
    else:
        results["postgresql"] = None
    report = {
        "benchmark": "consent_checks",
        "config": {**config, "tiny": args.tiny, "postgresql": bool(args.postgres_url)},
        "cpu_count": os.cpu_count(),
        "results": results,
    }
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
