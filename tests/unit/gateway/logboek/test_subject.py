"""``dpl.core.data_subject_id``: AES-SIV under the Logboek's own key (gateway/logboek/subject)."""

from __future__ import annotations

from gateway.keys import KeyStore
from gateway.logboek import subject

PSEUDONYM = "a-child's-audit-pseudonym"


def test_the_same_child_encrypts_the_same_and_opens_with_the_logboek_key(keys_dir):
    keys = KeyStore(keys_dir, allow_generate=False)
    key, version = keys.logboek_key()
    first = subject.encrypt(PSEUDONYM, key, version)
    assert first == subject.encrypt(PSEUDONYM, key, version)  # deterministic: groupable
    assert first.startswith(f"v{version}.") and subject.key_version(first) == version
    assert PSEUDONYM not in first
    assert subject.decrypt(first, key) == PSEUDONYM
    assert subject.encrypt("another child", key, version) != first


def test_the_logboek_key_is_of_its_own(keys_dir):
    keys = KeyStore(keys_dir, allow_generate=False)
    key, version = keys.logboek_key()
    assert len(key) == 64
    # no other purpose's key opens it, and the key is none of theirs
    for purpose in ("audit", "payload", "consent", "match"):
        other = keys.keyring.derive(purpose, version, 64)
        assert other != key
        assert subject.decrypt(subject.encrypt(PSEUDONYM, key, version), other) is None


def test_a_damaged_value_does_not_open(keys_dir):
    key, version = KeyStore(keys_dir, allow_generate=False).logboek_key()
    value = subject.encrypt(PSEUDONYM, key, version)
    assert subject.decrypt(value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1], key) is None
    assert subject.decrypt("v1.!!!", key) is None
