"""The ``gateway`` CLI: database, bootstrap, organisations and clients."""

import json

import pytest
from click.testing import CliRunner
from joserfc.jwk import ECKey

from gateway.cli import main


@pytest.fixture
def run(sqlite_url, keys_dir, monkeypatch):
    monkeypatch.setenv("GATEWAY_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(keys_dir))
    monkeypatch.delenv("GATEWAY_ENV", raising=False)
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke


def test_org_add_list_suspend_activate(run):
    added = run(
        "org", "add", "--oin", "00000001001234567000", "--name", "OBS Test", "--type", "school"
    )
    assert added.exit_code == 0, added.output
    listed = json.loads(run("org", "list", "--json").output)
    assert listed[0]["oin"] == "00000001001234567000" and listed[0]["status"] == "active"
    assert run("org", "suspend", "00000001001234567000").exit_code == 0
    assert json.loads(run("org", "list", "--json").output)[0]["status"] == "suspended"
    assert run("org", "activate", "00000001001234567000").exit_code == 0
    assert json.loads(run("org", "list", "--json").output)[0]["status"] == "active"


def test_org_add_refuses_bad_oin(run):
    result = run("org", "add", "--oin", "12345", "--name", "X", "--type", "school")
    assert result.exit_code != 0
    assert "20 digits" in result.output


def test_client_add_and_list(run, tmp_path):
    run("org", "add", "--oin", "00000001001234567000", "--name", "OBS Test", "--type", "school")
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [ECKey.generate_key("P-256").as_dict(private=False)]}))
    result = run(
        "client",
        "add",
        "--oin",
        "00000001001234567000",
        "--client-id",
        "obs-sis",
        "--auth",
        "private_key_jwt",
        "--jwks-file",
        str(jwks),
        "--scope",
        "exchange:send",
    )
    assert result.exit_code == 0, result.output
    listing = run("client", "list").output
    assert "obs-sis" in listing and "exchange:send" in listing


def test_client_add_refuses_operator_scope_for_a_school(run, tmp_path):
    run("org", "add", "--oin", "00000001001234567000", "--name", "OBS Test", "--type", "school")
    result = run(
        "client",
        "add",
        "--oin",
        "00000001001234567000",
        "--client-id",
        "obs-sis",
        "--auth",
        "tls_client_auth",
        "--cert-sha256",
        "ab" * 32,
        "--scope",
        "reidentify:approve",
    )
    assert result.exit_code != 0
    assert "operator" in result.output


def test_bootstrap_refusal_lists_lines(run, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text('organisations:\n  - oin: "1"\n    name: X\n    type: school\n')
    result = run("bootstrap", str(path))
    assert result.exit_code != 0
    assert "bad.yaml:2: organisations[0].oin" in result.output


def test_db_upgrade(run):
    result = run("db", "upgrade")
    assert result.exit_code == 0 and "revision" in result.output
