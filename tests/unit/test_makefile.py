"""The Makefile, read through ``make -n -B`` (prints every recipe, runs none): ``make run``
installs only what serving needs and follows ``PORT=``; the test tooling comes with the
targets that need it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def dry_run(*arguments: str, **environment: str) -> list[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("GATEWAY_BASE_URL", "PORT", "MAKEFLAGS", "MAKELEVEL")}
    env.update(environment)
    result = subprocess.run(["make", "-n", "-B", "-C", str(REPO), "--no-print-directory",
                             *arguments], capture_output=True, text=True, env=env, check=True)
    return result.stdout.splitlines()


def gateway_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if ".venv/bin/gateway " in line]


def test_run_serves_on_8000_by_default_with_the_base_url_to_match():
    lines = gateway_lines(dry_run("run"))
    assert lines[-1].endswith("gateway run --host 127.0.0.1 --port 8000")
    assert len(lines) == 6
    assert all(line.startswith("GATEWAY_BASE_URL='http://127.0.0.1:8000' ") for line in lines)


def test_port_moves_the_server_and_the_base_url_together():
    lines = gateway_lines(dry_run("run", "PORT=8123"))
    assert lines[-1].endswith("--port 8123")
    assert all(line.startswith("GATEWAY_BASE_URL='http://127.0.0.1:8123' ") for line in lines)


def test_a_base_url_that_is_set_wins():
    from_environment = gateway_lines(dry_run("run", GATEWAY_BASE_URL="https://gw.example"))
    assert from_environment[-1].startswith("GATEWAY_BASE_URL='https://gw.example' ")
    on_the_line = gateway_lines(dry_run("run", "PORT=9000",
                                        "GATEWAY_BASE_URL=http://localhost:9000"))
    assert on_the_line[-1] == ("GATEWAY_BASE_URL='http://localhost:9000' .venv/bin/gateway run"
                               " --host 127.0.0.1 --port 9000")


def test_run_installs_only_what_serving_needs():
    text = "\n".join(dry_run("run"))
    assert "-e ." in text and "xmlsec1" in text and "libsodium23" in text
    for tooling in (".[test]", "chromium", "prometheus"):
        assert tooling not in text, tooling


@pytest.mark.parametrize("target", ["test", "lint", "bench", "drill"])
def test_the_tooling_targets_install_the_test_extra_chromium_and_prometheus(target):
    text = "\n".join(dry_run(target))
    for needed in ("-e .\n", "'.[test]'", "chromium prometheus", "xmlsec1", "libsodium23"):
        assert needed in text + "\n", (target, needed)
