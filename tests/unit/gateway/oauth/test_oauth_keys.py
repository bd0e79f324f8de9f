"""Signing-key rotation in ``KeyStore``: seen by other processes, published, retired."""

import json
import os
import stat

import pytest

from gateway.config import ConfigurationError
from gateway.keys import KeyStore
from gateway.oauth.metadata import public_jwks


@pytest.fixture
def directory(tmp_path):
    KeyStore(tmp_path, allow_generate=True)
    return tmp_path


def test_rotation_in_one_process_is_seen_by_another(directory):
    worker = KeyStore(directory, allow_generate=False)
    first = worker.current_signing_key
    operator = KeyStore(directory, allow_generate=False)
    added = operator.add_signing_key()
    assert worker.signing_key(added.kid).kid == added.kid
    assert worker.current_signing_key.kid == added.kid
    assert [k.kid for k in worker.signing_keys] == [first.kid, added.kid]


def test_refresh_costs_nothing_when_unchanged(directory):
    worker = KeyStore(directory, allow_generate=False)
    assert worker.refresh_signing() is False
    KeyStore(directory, allow_generate=False).add_signing_key()
    assert worker.refresh_signing() is True
    assert worker.refresh_signing() is False


def test_jwks_publishes_every_active_key_once_and_no_private_parts(directory):
    store = KeyStore(directory, allow_generate=False)
    store.add_signing_key()
    jwks = public_jwks(store)
    kids = [key["kid"] for key in jwks["keys"]]
    # two token keys, then the push and the receipt key (one key per purpose, issue 16)
    assert len(kids) == 4 and len(set(kids)) == 4
    assert [kid.split("-")[0] for kid in kids] == ["token", "token", "push", "receipt"]
    for key in jwks["keys"]:
        assert set(key) == {"kty", "crv", "x", "y", "kid", "alg", "use"}
        assert key["alg"] == "ES256" and key["use"] == "sig"


def test_new_key_files_are_private_and_complete(directory):
    key = KeyStore(directory, allow_generate=False).add_signing_key()
    folder = directory / "signing"
    pem = folder / f"{key.kid}.pem"
    assert stat.S_IMODE(os.stat(pem).st_mode) == 0o600
    assert json.loads((folder / f"{key.kid}.json").read_text())["alg"] == "ES256"
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_half_written_files_are_never_loaded(directory):
    worker = KeyStore(directory, allow_generate=False)
    (directory / "signing" / ".incoming.pem.1234.tmp").write_bytes(b"-----BEGIN")
    worker.refresh_signing()
    assert len(worker.signing_keys) == 1


def test_retire_stops_publishing_and_trusting(directory):
    worker = KeyStore(directory, allow_generate=False)
    old = worker.current_signing_key
    operator = KeyStore(directory, allow_generate=False)
    operator.add_signing_key()
    operator.retire_signing_key(old.kid)
    assert worker.signing_key(old.kid) is None
    assert old.kid not in [k["kid"] for k in public_jwks(worker)["keys"]]
    assert [k.kid for k in KeyStore(directory, allow_generate=False).retired_signing_keys] == [
        old.kid
    ]


def test_current_key_cannot_be_retired(directory):
    store = KeyStore(directory, allow_generate=False)
    with pytest.raises(ConfigurationError, match="rotate first"):
        store.retire_signing_key(store.current_signing_key.kid)
