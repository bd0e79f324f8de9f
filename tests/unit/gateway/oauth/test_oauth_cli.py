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


def listed(run, purpose: str = "token"):
    return json.loads(run("keys", "list", "--json", "--purpose", purpose).output)


def test_keys_init_rotate_list_retire(run, tmp_path):
    """Rotation and retirement of the token keys (``--purpose token``: since the keys were
    split per purpose, ``keys list`` shows all three purposes and ``rotate`` rotates all)."""
    initialised = run("keys", "init").output
    assert all(
        what in initialised
        for what in ("token signing key", "push signing key", "consent receipt signing key")
    )
    first = listed(run)
    assert [k["status"] for k in first] == ["current"]
    rotated = run("keys", "rotate", "--purpose", "token")
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


def test_keys_rotate_per_purpose(run, tmp_path):
    """Each purpose has its own keys and kid prefix; rotating one leaves the others alone,
    and a plain ``keys rotate`` rotates every purpose."""
    run("keys", "init")
    before = {purpose: listed(run, purpose) for purpose in ("token", "push", "receipt")}
    for purpose, rows in before.items():
        assert [row["purpose"] for row in rows] == [purpose]
        assert rows[0]["kid"].startswith(f"{purpose}-")
    assert run("keys", "rotate", "--purpose", "push").exit_code == 0
    assert [k["status"] for k in listed(run, "push")] == ["active", "current"]
    assert listed(run, "token") == before["token"]
    assert listed(run, "receipt") == before["receipt"]
    everything = run("keys", "rotate")
    assert everything.exit_code == 0 and everything.output.count("new signing key") == 3
    assert [len(listed(run, p)) for p in ("token", "push", "receipt")] == [2, 3, 2]
    kids = {row["kid"] for row in listed(run, "all")}
    assert len(kids) == 7
    store = KeyStore(tmp_path / "keys", allow_generate=False)
    assert store.push.current.kid.startswith("push-")
    assert store.signing_key(store.push.current.kid) is None  # a push key verifies no token


def test_keys_in_the_wrong_folder_are_refused(run, tmp_path):
    """A push key copied into the token folder would let push signatures pass as tokens:
    the key store refuses to start with it."""
    run("keys", "init")
    keys = tmp_path / "keys"
    push_pem = next((keys / "push").glob("*.pem"))
    (keys / "signing" / push_pem.name).write_bytes(push_pem.read_bytes())
    with pytest.raises(Exception, match="not a token key"):
        KeyStore(keys, allow_generate=False)


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
