"""Run every benchmark in ``bench/`` and publish the figures.

``python bench/run_all.py`` runs each ``bench_*.py`` at full size and stores every JSON answer
in ``bench/results.json`` (``docs/performance.md`` reads its figures from there).
``--tiny`` (CI) runs each at smoke size only to keep it working and writes
``bench/results-tiny.json``; it never touches the published figures and asserts no timing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent


def run(script: Path, tiny: bool) -> dict:
    command = [sys.executable, str(script)] + (["--tiny"] if tiny else [])
    started = time.monotonic()
    result = subprocess.run(
        command,
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    if result.returncode != 0:
        raise SystemExit(f"{script.name} failed:\n{result.stderr[-4000:]}")
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    answer = json.loads(lines[-1])
    answer["_seconds"] = round(time.monotonic() - started, 1)
    answer["_command"] = " ".join(["python", f"bench/{script.name}"] + (["--tiny"] if tiny else []))
    return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--only", nargs="*", help="names like bench_oauth or wrk")
    args = parser.parse_args()
    scripts = sorted(BENCH.glob("bench_*.py"))
    if args.only:
        wanted = {name.removeprefix("bench_") for name in args.only}
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in wanted]
    results = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "benchmarks": {},
    }
    for script in scripts:
        print(f"running {script.name}{' --tiny' if args.tiny else ''}", file=sys.stderr, flush=True)
        results["benchmarks"][script.stem] = run(script, args.tiny)
    target = BENCH / ("results-tiny.json" if args.tiny else "results.json")
    if not args.tiny and args.only and target.exists():
        previous = json.loads(target.read_text())
        previous["benchmarks"].update(results["benchmarks"])
        previous["generated_at"], previous["machine"] = results["generated_at"], results["machine"]
        results = previous
    target.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({"written": str(target.relative_to(REPO))}))


if __name__ == "__main__":
    main()
