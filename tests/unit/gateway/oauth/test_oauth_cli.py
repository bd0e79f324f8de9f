"""``gateway keys ...`` and ``gateway certs ...``."""

import json
import os
import stat

import pytest
from click.testing import CliRunner
from cryptography import x509

from certs import oin_from_certificate, sha256_thumbprint_hex
from gateway.cli import main
from gateway.keys import KeyStore


@pytest.fixture
def run(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("GATEWAY_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("GATEWAY_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.delenv("GATEWAY_ENV", raising=False)
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


def listed(run):
    return json.loads(run("keys", "list", "--json").output)


def test_keys_init_rotate_list_retire(run, tmp_path):
    assert "token signing key" in run("keys", "init").output
    first = listed(run)
    assert [k["status"] for k in first] == ["current"]
    rotated = run("keys", "rotate")
    assert rotated.exit_code == 0 and first[0]["kid"] in rotated.output
    keys = listed(run)
    assert [k["status"] for k in keys] == ["active", "current"]
    refused = run("keys", "retire", first[0]["kid"])
    assert refused.exit_code != 0 and "--force" in refused.output
    assert run("keys", "retire", keys[1]["kid"], "--force").exit_code != 0
    assert run("keys", "retire", first[0]["kid"], "--force").exit_code == 0
    assert [k["status"] for k in listed(run)] == ["current", "retired"]
    store = KeyStore(tmp_path / "keys", allow_generate=False)
    assert [k.kid for k in store.signing_keys] == [keys[1]["kid"]]


def test_certs_init_ca_and_issue(run, tmp_path):
    assert run("certs", "init-ca").exit_code == 0
    out = tmp_path / "instance" / "certs"
    assert stat.S_IMODE(os.stat(out / "ca.key").st_mode) == 0o600
    again = run("certs", "init-ca")
    assert again.exit_code != 0 and "--force" in again.output
    issued = run("certs", "issue", "--oin", "00000001001234567000", "--name", "OBS Test")
    assert issued.exit_code == 0, issued.output
    key_file, cert_file = out / "00000001001234567000.key", out / "00000001001234567000.pem"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
    assert oin_from_certificate(certificate) == "00000001001234567000"
    assert f"tls_client_cert_sha256: {sha256_thumbprint_hex(certificate)}" in issued.output


def test_certs_issue_refusals(run, tmp_path):
    missing = run("certs", "issue", "--oin", "00000001001234567000", "--name", "X")
    assert missing.exit_code != 0 and "init-ca" in missing.output
    run("certs", "init-ca", "--out", str(tmp_path / "ca"))
    bad = run("certs", "issue", "--oin", "123", "--name", "X", "--out", str(tmp_path / "ca"))
    assert bad.exit_code != 0 and "20 digits" in bad.output
