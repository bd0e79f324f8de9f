"""The sandbox of ``make run``: the shipped demo bootstrap file and ``gateway demo traffic``
against a real server."""

import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import start_server, stop_server

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory, keys_dir):
    root = tmp_path_factory.mktemp("sandbox")
    (root / "deploy").mkdir()
    shutil.copy(REPO / "deploy" / "demo-bootstrap.yaml", root / "deploy")
    instance = root / "instance"
    instance.mkdir()
    shutil.copytree(keys_dir, instance / "keys")
    server = start_server(instance, instance / "keys")
    yield server, root
    stop_server(server.process)


def test_demo_bootstrap_and_traffic(sandbox):
    server, root = sandbox
    server.cli("demo", "keys", "--out", str(root / "instance" / "demo"))
    first = server.cli("bootstrap", str(root / "deploy" / "demo-bootstrap.yaml")).stdout
    assert "created 12" in first
    again = server.cli("bootstrap", str(root / "deploy" / "demo-bootstrap.yaml")).stdout
    assert "created 0, updated 0, removed 0, unchanged 12" in again
    output = server.cli("demo", "traffic", "--keys", str(root / "instance" / "demo")).stdout
    assert "4 exchange(s) accepted" in output
    assert "inbox leerplicht-groningen: absence_report subject={'bsn': '111222333'}" in output
    assert "inbox swv-groningen: absence_report subject={'pseudonym':" in output
    assert "birth_year" in output and "inbox wij-cases: support_request" in output
