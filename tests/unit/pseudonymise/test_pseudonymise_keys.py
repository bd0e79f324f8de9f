"""Versioned key ring and HKDF derivation, checked against an independent RFC 5869 HKDF."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pseudonymise.keys as keys_module
from pseudonymise import KeyRing, UnknownKeyVersionError, UnknownPseudonymError

SALT = b"thuiszitterspact-gateway/v1"
SECRET_1 = bytes(range(32))
SECRET_2 = bytes(range(100, 148))
ORG = "pseudonym:00000001001234567000"


def reference_hkdf(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    """HKDF-SHA256 straight from RFC 5869 with the standard library only."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
        counter += 1
    return okm[:length]


def test_reference_hkdf_matches_rfc5869_test_case_1() -> None:
    okm = reference_hkdf(
        ikm=bytes.fromhex("0b" * 22),
        salt=bytes.fromhex("000102030405060708090a0b0c"),
        info=bytes.fromhex("f0f1f2f3f4f5f6f7f8f9"),
        length=42,
    )
    assert okm == bytes.fromhex(
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )


@pytest.mark.parametrize("purpose", [ORG, "audit", "consent", "match", "payload"])
@pytest.mark.parametrize("length", [32, 64])
def test_derive_is_hkdf_sha256_with_product_salt_and_purpose_info(
    purpose: str, length: int
) -> None:
    ring = KeyRing({1: SECRET_1})
    expected = reference_hkdf(SECRET_1, SALT, f"{purpose}|{length}".encode(), length)
    assert ring.derive(purpose, length=length) == expected
    assert ring.derive(purpose, 1, length) == expected


def test_default_length_is_32_and_default_version_is_current() -> None:
    ring = KeyRing({1: SECRET_1, 2: SECRET_2})
    assert ring.current_version == 2
    assert ring.derive("audit") == reference_hkdf(SECRET_2, SALT, b"audit|32", 32)
    assert ring.derive("audit", 1) == reference_hkdf(SECRET_1, SALT, b"audit|32", 32)


def test_short_key_is_not_a_prefix_of_the_long_key_of_the_same_purpose() -> None:
    ring = KeyRing({1: SECRET_1})
    assert ring.derive("audit", length=64)[:32] != ring.derive("audit", length=32)


@given(st.lists(st.text(min_size=1, max_size=40), min_size=2, max_size=6, unique=True))
def test_distinct_purposes_give_distinct_keys(purposes: list[str]) -> None:
    ring = KeyRing({1: SECRET_1})
    derived = [ring.derive(p) for p in purposes]
    assert len(set(derived)) == len(purposes)
    assert derived == [ring.derive(p) for p in purposes]  # deterministic


def test_versions_give_distinct_keys() -> None:
    ring = KeyRing({1: SECRET_1, 2: SECRET_2})
    assert ring.derive(ORG, 1) != ring.derive(ORG, 2)


@pytest.mark.parametrize("version", [0, 3, 255, -1, True, 1.0, "1"])
def test_unknown_version_raises(version: object) -> None:
    ring = KeyRing({1: SECRET_1, 2: SECRET_2})
    with pytest.raises(UnknownKeyVersionError) as info:
        ring.derive("audit", version)  # type: ignore[arg-type]
    assert isinstance(info.value, UnknownPseudonymError)
    assert info.value.code == "unknown_pseudonym"


def test_versions_and_membership() -> None:
    ring = KeyRing({3: SECRET_2, 1: SECRET_1})
    assert ring.versions == (1, 3)
    assert ring.current_version == 3
    assert 1 in ring and 3 in ring
    assert 2 not in ring and True not in ring


@pytest.mark.parametrize(
    ("secrets", "error"),
    [
        ({}, ValueError),
        ({1: b"\x00" * 31}, ValueError),
        ({0: SECRET_1}, ValueError),
        ({256: SECRET_1}, ValueError),
        ({True: SECRET_1}, ValueError),
        ({1: "a" * 40}, TypeError),
    ],
)
def test_bad_rings_are_refused(secrets: dict, error: type[Exception]) -> None:
    with pytest.raises(error):
        KeyRing(secrets)


def test_error_messages_and_repr_never_show_secrets() -> None:
    short = b"supersecretvalue-31-bytes-long!"
    assert len(short) == 31
    with pytest.raises(ValueError) as info:
        KeyRing({1: short})
    assert "supersecret" not in str(info.value)
    ring = KeyRing({1: SECRET_1, 2: SECRET_2})
    text = repr(ring) + str(ring)
    assert SECRET_1.hex() not in text and repr(SECRET_1) not in text
    assert "versions=(1, 2)" in repr(ring)


def test_with_new_version_adds_current_plus_one_and_leaves_the_original() -> None:
    ring = KeyRing({1: SECRET_1})
    before = ring.derive(ORG, length=64)
    rotated = ring.with_new_version(SECRET_2)
    assert rotated.versions == (1, 2)
    assert rotated.current_version == 2
    assert ring.versions == (1,)  # immutable: a new ring, not a changed one
    assert rotated.derive(ORG, 1, 64) == before
    assert rotated.derive(ORG, length=64) == reference_hkdf(SECRET_2, SALT, f"{ORG}|64".encode(), 64)


def test_with_new_version_validates_the_secret() -> None:
    with pytest.raises(ValueError):
        KeyRing({1: SECRET_1}).with_new_version(b"short")


def test_generate_makes_one_random_version() -> None:
    a, b = KeyRing.generate(), KeyRing.generate()
    assert a.versions == (1,) and a.current_version == 1
    assert a.derive("audit") != b.derive("audit")


def test_secrets_are_copied_at_construction() -> None:
    secret = bytearray(SECRET_1)
    ring = KeyRing({1: secret})
    secret[:] = b"\xff" * 32
    assert ring.derive("audit") == reference_hkdf(SECRET_1, SALT, b"audit|32", 32)


def test_derived_keys_are_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []
    real_hkdf = keys_module.HKDF

    def counting_hkdf(**kwargs: object) -> object:
        calls.append(kwargs["info"])  # type: ignore[arg-type]
        return real_hkdf(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(keys_module, "HKDF", counting_hkdf)
    ring = KeyRing({1: SECRET_1})
    first = [ring.derive("audit") for _ in range(100)]
    assert len(set(first)) == 1
    assert calls == [b"audit|32"]
    ring.derive("consent")
    ring.derive("audit", length=64)
    assert calls == [b"audit|32", b"consent|32", b"audit|64"]


@pytest.mark.parametrize(("purpose", "length"), [("", 32), (None, 32), ("audit", 8), ("audit", 0)])
def test_bad_derive_arguments_are_refused(purpose: object, length: int) -> None:
    with pytest.raises(ValueError):
        KeyRing({1: SECRET_1}).derive(purpose, length=length)  # type: ignore[arg-type]
