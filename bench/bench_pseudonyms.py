"""Throughput of pseudonym issue compared with a plain HMAC-SHA256 loop.

Why a plain HMAC as the yardstick: it is the cheapest keyed, non-reversible pseudonym one could
build, so the ratio shows what the reversibility (AES-SIV) and the bulk CSV plumbing cost on
this machine, independent of how fast the machine is. The goal is a ratio of at least 0.5.

Prints one JSON object. CI runs ``--tiny`` (the same as ``--size 1000 --runs 1``); the ratios
of such a short run are noisy and only show that everything works.
"""

from __future__ import annotations

import argparse
import csv
import hmac
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pseudonymise import Bsn, DomainPseudonymiser, KeyRing, generate_valid_bsns
from pseudonymise.bulk import pseudonymise_csv

DOMAIN = "pseudonym:00000001001234567000"
GOAL = 0.5
TINY_SIZE = 1000


def _median_seconds(run: Callable[[], object], runs: int) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def _write_csv(path: Path, bsns: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["leerlingnummer", "bsn", "school", "since_date"])
        writer.writerows(
            [str(n), bsn, "00000001001234567000", "2025-09-01"] for n, bsn in enumerate(bsns)
        )


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="number of BSNs / rows")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument(
        "--tiny",
        action="store_true",
        help=f"smoke run for CI (`make bench BENCH_SIZE=tiny`): --size {TINY_SIZE} --runs 1",
    )
    args = parser.parse_args(argv)
    size, runs = (TINY_SIZE, 1) if args.tiny else (args.size, args.runs)
    if size < 1 or runs < 1:
        parser.error("--size and --runs must be at least 1")

    digits = list(generate_valid_bsns(size, seed=20240901))
    digit_bytes = [d.encode("ascii") for d in digits]
    bsns = [Bsn(d) for d in digits]
    hmac_key = os.urandom(32)
    pseudonymiser = DomainPseudonymiser(KeyRing.generate())
    pseudonymiser.pseudonymise(bsns[0], DOMAIN)  # warm the cipher cache outside the timing

    def hmac_loop() -> None:
        digest = hmac.digest
        for value in digit_bytes:
            digest(hmac_key, value, "sha256")

    def pseudonymise_loop() -> None:
        issue = pseudonymiser.pseudonymise
        for bsn in bsns:
            issue(bsn, DOMAIN)

    hmac_s = _median_seconds(hmac_loop, runs)
    pseudonymise_s = _median_seconds(pseudonymise_loop, runs)

    with tempfile.TemporaryDirectory(prefix="bench-pseudonyms-") as tmp:
        source_path = Path(tmp, "input.csv")
        _write_csv(source_path, digits)

        def bulk_run() -> None:
            with (
                source_path.open(newline="", encoding="utf-8") as source,
                Path(tmp, "output.csv").open("w", newline="", encoding="utf-8") as target,
                Path(tmp, "rejects.csv").open("w", newline="", encoding="utf-8") as rejects,
            ):
                result = pseudonymise_csv(source, target, rejects, "bsn", DOMAIN, pseudonymiser)
            if result.rows_out != size:
                raise RuntimeError("bulk run did not pseudonymise every row")

        bulk_s = _median_seconds(bulk_run, runs)

    hmac_per_s = size / hmac_s
    pseudonymise_per_s = size / pseudonymise_s
    bulk_rows_per_s = size / bulk_s
    report: dict[str, object] = {
        "benchmark": "pseudonyms",
        "size": size,
        "runs": runs,
        "cpu_count": os.cpu_count(),
        "hmac_per_s": round(hmac_per_s),
        "pseudonymise_per_s": round(pseudonymise_per_s),
        "bulk_rows_per_s": round(bulk_rows_per_s),
        "ratio_pseudonymise_to_hmac": round(pseudonymise_per_s / hmac_per_s, 3),
        "ratio_bulk_to_hmac": round(bulk_rows_per_s / hmac_per_s, 3),
        "goal": GOAL,
    }
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
