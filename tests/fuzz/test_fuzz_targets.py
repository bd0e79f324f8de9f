"""The CI-sized run of every coverage-guided fuzz target in ``fuzz/`` (atheris + libFuzzer).

Each target runs in its own process, exactly as ``make fuzz`` runs it, for a bounded number of
inputs and seconds, starting from its seed corpus in ``fuzz/corpus/<name>``. A crash (an
exception other than the module's own documented errors, or a broken invariant) makes libFuzzer
exit non-zero and write the input to a ``crash-*`` file; the test then fails and shows the
traceback and the reproducer.

A crash that is a reported bug in another area is listed as a ``KnownBug`` in the target; the run
records it in a log (``FUZZ_KNOWN_BUGS_LOG``) and goes on, and the test marks itself xfail with
the bug's description, so that one known bug does not hide the next finding. Fixing the bug
makes the test pass again without editing it. (No target lists a known bug at the moment: the
ones found so far are fixed and have regression tests in ``test_fuzz_regressions.py``.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FUZZ = REPO / "fuzz"
TARGETS = sorted(path.stem.removeprefix("fuzz_") for path in FUZZ.glob("fuzz_*.py"))
RUNS = int(os.environ.get("GATEWAY_FUZZ_CI_RUNS", "20000"))
SECONDS = int(os.environ.get("GATEWAY_FUZZ_CI_SECONDS", "10"))


def test_every_target_has_a_seed_corpus():
    assert {"strictjson", "bsn", "pseudonym", "bootstrap", "assertion", "saml"} <= set(TARGETS)
    for name in TARGETS:
        assert any((FUZZ / "corpus" / name).iterdir()), f"fuzz/corpus/{name} is empty"


@pytest.mark.parametrize("name", TARGETS)
def test_fuzz_target_finds_no_crash(name, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    known_log = tmp_path / "known-bugs.jsonl"
    command = [
        sys.executable, "-W", "ignore", str(FUZZ / f"fuzz_{name}.py"),
        f"-runs={RUNS}", f"-max_total_time={SECONDS}", "-timeout=20", "-rss_limit_mb=2048",
        f"-artifact_prefix={tmp_path}/", "-print_final_stats=1",
        str(corpus), str(FUZZ / "corpus" / name),
    ]
    env = {**os.environ, "FUZZ_KNOWN_BUGS_LOG": str(known_log), "PYTHONPATH": str(REPO)}
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=SECONDS + 120)
    output = "\n".join(
        line for line in (result.stdout + result.stderr).splitlines()
        if not line.startswith(("INFO: Instrumenting", '{"at"'))
    )
    crashes = sorted(tmp_path.glob("crash-*")) + sorted(tmp_path.glob("timeout-*")) + sorted(
        tmp_path.glob("oom-*")
    )
    if result.returncode != 0 or crashes:
        kept = Path(os.environ.get("GATEWAY_FUZZ_ARTIFACTS", tmp_path))
        for crash in crashes:
            if kept != tmp_path:
                kept.mkdir(parents=True, exist_ok=True)
                shutil.copy(crash, kept / f"{name}-{crash.name}")
        reproduce = f"python fuzz/fuzz_{name}.py {crashes[0]}" if crashes else "(no artifact)"
        pytest.fail(
            f"fuzz target {name} crashed (exit {result.returncode}); reproduce with: "
            f"{reproduce}\n{output[-6000:]}",
            pytrace=False,
        )
    assert "Done" in output or "hypothesis fallback" in output, output[-3000:]
    if known_log.exists():
        bugs = [json.loads(line) for line in known_log.read_text().splitlines()]
        pytest.xfail(
            "known bug(s) outside fuzz/, reproduced by this run: "
            + "; ".join(f"[{bug['bug']}] {bug['description']}" for bug in bugs)
        )


def run_target(name: str, *args: str, env: dict | None = None, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-W", "ignore", str(FUZZ / f"fuzz_{name}.py"), *args],
        cwd=cwd, env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        capture_output=True, text=True, timeout=300,
    )


DEMO_TARGET = """
import sys
sys.path.insert(0, {fuzz!r})
from harness import FuzzTarget, KnownBug, main, raised_in


def check(data):
    if data.startswith(b"refused"):
        raise ValueError("a documented error")
    if data.startswith(b"known"):
        raise KeyError("the reported bug")
    if data.startswith(b"crash"):
        raise ZeroDivisionError("a new bug")


TARGET = FuzzTarget("demo", check, expected=(ValueError,), known_bugs=(
    KnownBug("demo-key-error", "check() lets KeyError escape",
             raised_in(KeyError, "check", "fuzz_demo.py")),
))
main(TARGET)
"""


@pytest.mark.parametrize("engine", ["atheris", "hypothesis"])
def test_harness_fails_on_a_crash_and_logs_a_known_bug_only_when_asked(tmp_path, engine):
    """The harness itself, on a target made for this test: a documented error is no crash; an
    undocumented exception is, with its traceback; a known bug is a crash too unless
    FUZZ_KNOWN_BUGS_LOG is set, and then it is logged and the run goes on."""
    script = tmp_path / "fuzz_demo.py"
    script.write_text(DEMO_TARGET.format(fuzz=str(FUZZ)))
    inputs = {}
    for name in ("refused", "known", "crash"):
        inputs[name] = tmp_path / f"{name}.bin"
        inputs[name].write_bytes(name.encode())
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if engine == "hypothesis":
        env["FUZZ_FORCE_HYPOTHESIS"] = "1"

    def replay(name: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(script), str(inputs[name])], cwd=tmp_path,
                              env={**env, **extra}, capture_output=True, text=True, timeout=120)

    assert replay("refused").returncode == 0
    crashed = replay("crash")
    assert crashed.returncode != 0 and "ZeroDivisionError" in crashed.stdout + crashed.stderr
    unlogged = replay("known")
    assert unlogged.returncode != 0 and "KeyError" in unlogged.stdout + unlogged.stderr
    log = tmp_path / "known.jsonl"
    logged = replay("known", FUZZ_KNOWN_BUGS_LOG=str(log))
    assert logged.returncode == 0, logged.stdout + logged.stderr
    assert [json.loads(line)["bug"] for line in log.read_text().splitlines()] == [
        "demo-key-error"
    ]
    still_crashes = replay("crash", FUZZ_KNOWN_BUGS_LOG=str(log))
    assert still_crashes.returncode != 0


def test_hypothesis_fallback_runs_a_target(tmp_path):
    result = run_target("strictjson", "-runs=300", "-max_total_time=60",
                        env={"FUZZ_FORCE_HYPOTHESIS": "1"}, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hypothesis fallback: strictjson: no crash" in result.stdout
