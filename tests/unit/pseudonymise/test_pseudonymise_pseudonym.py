"""Domain pseudonyms: format, round trip, domain separation, translation, rotation, tampering."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import string

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pseudonymise import (
    Bsn,
    DomainPseudonymiser,
    InvalidBsnError,
    KeyRing,
    UnknownKeyVersionError,
    UnknownPseudonymError,
    generate_valid_bsns,
    organisation_domain,
)

SECRET_1 = bytes(range(32))
SECRET_2 = bytes(range(50, 82))
ORG_A = "pseudonym:00000001001234567000"
ORG_B = "pseudonym:00000001009876543000"
ALPHABET = string.ascii_letters + string.digits + "-_"
PSEUDONYM_RE = re.compile(r"[A-Za-z0-9_-]{1,128}")

VALID = [Bsn(v) for v in generate_valid_bsns(50, seed=3)]

oins = st.text(alphabet="0123456789", min_size=20, max_size=20)
domains = st.one_of(st.sampled_from(["audit", "consent", "match"]), oins.map(organisation_domain))
bsns = st.sampled_from(VALID) | st.integers(0, 10**6).map(
    lambda seed: Bsn(next(generate_valid_bsns(1, seed)))
)


def reference_hkdf(ikm: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 HKDF-SHA256 with the product salt, standard library only."""
    prk = hmac.new(b"thuiszitterspact-gateway/v1", ikm, hashlib.sha256).digest()
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
        counter += 1
    return okm[:length]


def reference_pseudonym(secret: bytes, version: int, digits: str, domain: str) -> str:
    """The documented format, built from its parts: b64url(version || AES-SIV(k, bsn, [domain]))."""
    key = reference_hkdf(secret, f"{domain}|64".encode(), 64)
    sealed = AESSIV(key).encrypt(digits.encode(), [domain.encode()])
    return base64.urlsafe_b64encode(bytes([version]) + sealed).decode().rstrip("=")


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing({1: SECRET_1})


@pytest.fixture
def pseudonymiser(ring: KeyRing) -> DomainPseudonymiser:
    return DomainPseudonymiser(ring)


# --- format -----------------------------------------------------------------------------------


@pytest.mark.parametrize("domain", [ORG_A, "audit", "consent", "match"])
def test_pseudonym_is_the_documented_construction(
    pseudonymiser: DomainPseudonymiser, domain: str
) -> None:
    for bsn in VALID[:10]:
        expected = reference_pseudonym(SECRET_1, 1, bsn.digits, domain)
        assert pseudonymiser.pseudonymise(bsn, domain) == expected


@given(bsn=bsns, domain=domains)
def test_pseudonym_alphabet_and_length(bsn: Bsn, domain: str) -> None:
    pseudonym = DomainPseudonymiser(KeyRing({1: SECRET_1})).pseudonymise(bsn, domain)
    assert PSEUDONYM_RE.fullmatch(pseudonym)
    assert len(pseudonym) <= 128
    assert bsn.digits not in pseudonym


def test_no_pseudonym_contains_its_bsn(pseudonymiser: DomainPseudonymiser) -> None:
    checked = 0
    for seed, domain in enumerate((ORG_A, ORG_B, "audit", "consent", "match")):
        for digits in generate_valid_bsns(5000, seed=seed):
            pseudonym = pseudonymiser.pseudonymise(Bsn(digits), domain)
            assert digits not in pseudonym
            assert PSEUDONYM_RE.fullmatch(pseudonym)
            checked += 1
    assert checked == 25000


# --- round trip, determinism, domain separation -------------------------------------------


@given(bsn=bsns, domain=domains)
def test_reveal_inverts_pseudonymise(bsn: Bsn, domain: str) -> None:
    p = DomainPseudonymiser(KeyRing({1: SECRET_1}))
    assert p.reveal(p.pseudonymise(bsn, domain), domain) == bsn


@given(bsn=bsns, domain=domains)
def test_pseudonyms_are_deterministic_across_instances(bsn: Bsn, domain: str) -> None:
    first = DomainPseudonymiser(KeyRing({1: SECRET_1})).pseudonymise(bsn, domain)
    second = DomainPseudonymiser(KeyRing({1: SECRET_1})).pseudonymise(Bsn(bsn.digits), domain)
    assert first == second


@given(bsn=bsns, a=domains, b=domains)
def test_domains_are_separated(bsn: Bsn, a: str, b: str) -> None:
    assume(a != b)
    p = DomainPseudonymiser(KeyRing({1: SECRET_1}))
    in_a = p.pseudonymise(bsn, a)
    assert in_a != p.pseudonymise(bsn, b)
    with pytest.raises(UnknownPseudonymError):
        p.reveal(in_a, b)


def test_distinct_bsns_give_distinct_pseudonyms(pseudonymiser: DomainPseudonymiser) -> None:
    digits = set(generate_valid_bsns(5000, seed=11))
    pseudonyms = {pseudonymiser.pseudonymise(Bsn(d), ORG_A) for d in digits}
    assert len(pseudonyms) == len(digits)


def test_another_key_ring_cannot_reveal(pseudonymiser: DomainPseudonymiser) -> None:
    pseudonym = pseudonymiser.pseudonymise(VALID[0], ORG_A)
    other = DomainPseudonymiser(KeyRing({1: SECRET_2}))
    assert other.pseudonymise(VALID[0], ORG_A) != pseudonym
    with pytest.raises(UnknownPseudonymError):
        other.reveal(pseudonym, ORG_A)


# --- translation ---------------------------------------------------------------------------


@given(bsn=bsns, a=domains, b=domains)
def test_translate_equals_direct_pseudonymisation(bsn: Bsn, a: str, b: str) -> None:
    p = DomainPseudonymiser(KeyRing({1: SECRET_1}))
    assert p.translate(p.pseudonymise(bsn, a), a, b) == p.pseudonymise(bsn, b)


def test_translate_from_the_wrong_domain_fails(pseudonymiser: DomainPseudonymiser) -> None:
    pseudonym = pseudonymiser.pseudonymise(VALID[0], ORG_A)
    with pytest.raises(UnknownPseudonymError):
        pseudonymiser.translate(pseudonym, ORG_B, "match")


# --- rotation ------------------------------------------------------------------------------


def test_rotation_issues_new_pseudonyms_and_still_accepts_old_ones() -> None:
    old = DomainPseudonymiser(KeyRing({1: SECRET_1}))
    new = DomainPseudonymiser(KeyRing({1: SECRET_1}).with_new_version(SECRET_2))
    bsn = VALID[0]
    old_pseudonym = old.pseudonymise(bsn, ORG_A)
    new_pseudonym = new.pseudonymise(bsn, ORG_A)

    assert new_pseudonym != old_pseudonym
    assert new_pseudonym == reference_pseudonym(SECRET_2, 2, bsn.digits, ORG_A)
    assert old.version_of(old_pseudonym) == 1
    assert new.version_of(new_pseudonym) == 2
    assert new.current_version == 2
    # The old version still works, and can still be issued explicitly.
    assert new.reveal(old_pseudonym, ORG_A) == bsn
    assert new.pseudonymise(bsn, ORG_A, version=1) == old_pseudonym
    # Translation always emits the current version, also within one domain (re-issue).
    assert new.translate(old_pseudonym, ORG_A, ORG_A) == new_pseudonym
    assert new.version_of(new.translate(old_pseudonym, ORG_A, ORG_B)) == 2
    # The old pseudonymiser knows nothing of version 2.
    with pytest.raises(UnknownKeyVersionError):
        old.reveal(new_pseudonym, ORG_A)


def test_a_retired_version_is_unknown() -> None:
    old_pseudonym = DomainPseudonymiser(KeyRing({1: SECRET_1})).pseudonymise(VALID[0], ORG_A)
    retired = DomainPseudonymiser(KeyRing({2: SECRET_2}))
    with pytest.raises(UnknownKeyVersionError) as info:
        retired.reveal(old_pseudonym, ORG_A)
    assert info.value.code == "unknown_pseudonym"
    with pytest.raises(UnknownKeyVersionError):
        retired.version_of(old_pseudonym)
    with pytest.raises(UnknownKeyVersionError):
        retired.translate(old_pseudonym, ORG_A, ORG_B)


def test_issuing_under_an_unknown_version_fails(pseudonymiser: DomainPseudonymiser) -> None:
    with pytest.raises(UnknownKeyVersionError):
        pseudonymiser.pseudonymise(VALID[0], ORG_A, version=99)


def test_a_forged_version_byte_is_refused(pseudonymiser: DomainPseudonymiser) -> None:
    raw = base64.urlsafe_b64decode(pseudonymiser.pseudonymise(VALID[0], ORG_A) + "=")
    forged = base64.urlsafe_b64encode(bytes([2]) + raw[1:]).decode().rstrip("=")
    both = DomainPseudonymiser(KeyRing({1: SECRET_1, 2: SECRET_2}))
    with pytest.raises(UnknownPseudonymError):
        both.reveal(forged, ORG_A)


# --- tampering and malformed input -----------------------------------------------------------


@settings(max_examples=300)
@given(bsn=bsns, position=st.integers(0, 34), replacement=st.sampled_from(ALPHABET))
def test_any_changed_character_is_refused(bsn: Bsn, position: int, replacement: str) -> None:
    p = DomainPseudonymiser(KeyRing({1: SECRET_1}))
    pseudonym = p.pseudonymise(bsn, ORG_A)
    assume(pseudonym[position] != replacement)
    tampered = pseudonym[:position] + replacement + pseudonym[position + 1 :]
    with pytest.raises(UnknownPseudonymError):
        p.reveal(tampered, ORG_A)


def test_only_the_canonical_base64_spelling_is_accepted(pseudonymiser: DomainPseudonymiser) -> None:
    # 35 characters carry 210 bits for 208 bits of data; the 2 spare bits must be zero.
    pseudonym = pseudonymiser.pseudonymise(VALID[0], ORG_A)
    last = _b64url_value(pseudonym[-1])
    assert last & 0b11 == 0
    for spare in (1, 2, 3):
        variant = pseudonym[:-1] + _b64url_char(last | spare)
        assert base64.urlsafe_b64decode(variant + "=") == base64.urlsafe_b64decode(pseudonym + "=")
        with pytest.raises(UnknownPseudonymError):
            pseudonymiser.reveal(variant, ORG_A)


B64URL = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"  # RFC 4648 order


def _b64url_value(char: str) -> int:
    return B64URL.index(char)


def _b64url_char(value: int) -> str:
    return B64URL[value]


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "A",
        "A" * 34,
        "A" * 36,
        "A" * 128,
        "A" * 129,
        "A" * 10_000,
        "Ab+d" * 9,
        "Ab/d" * 9,
        "AbCd" * 8 + "AB=",
        " " + "A" * 34,
        "A" * 34 + "\n",
        "é" * 35,
        "Ａ" * 35,  # fullwidth A
        "\x00" * 35,
    ],
)
def test_malformed_pseudonyms_are_refused(pseudonymiser: DomainPseudonymiser, bad: str) -> None:
    with pytest.raises(UnknownPseudonymError):
        pseudonymiser.reveal(bad, ORG_A)
    with pytest.raises(UnknownPseudonymError):
        pseudonymiser.version_of(bad)


def test_padding_or_whitespace_around_a_real_pseudonym_is_refused(
    pseudonymiser: DomainPseudonymiser,
) -> None:
    pseudonym = pseudonymiser.pseudonymise(VALID[0], ORG_A)
    for variant in (pseudonym + "=", " " + pseudonym, pseudonym + "\n", pseudonym[:-1]):
        with pytest.raises(UnknownPseudonymError):
            pseudonymiser.reveal(variant, ORG_A)


@pytest.mark.parametrize("bad", [None, 12345, b"AAAA", ["AAAA"]])
def test_non_string_pseudonyms_are_refused(pseudonymiser: DomainPseudonymiser, bad: object) -> None:
    with pytest.raises(UnknownPseudonymError):
        pseudonymiser.reveal(bad, ORG_A)  # type: ignore[arg-type]


@given(st.text(max_size=200))
def test_arbitrary_text_is_never_revealed(text: str) -> None:
    with pytest.raises(UnknownPseudonymError):
        DomainPseudonymiser(KeyRing({1: SECRET_1})).reveal(text, ORG_A)


def test_errors_leak_neither_pseudonym_nor_bsn_nor_cause(
    pseudonymiser: DomainPseudonymiser,
) -> None:
    bsn = VALID[0]
    pseudonym = pseudonymiser.pseudonymise(bsn, ORG_A)
    tampered = pseudonym[:-2] + ("A" if pseudonym[-2] != "A" else "B") + pseudonym[-1]
    for attempt in (
        lambda: pseudonymiser.reveal(pseudonym, ORG_B),
        lambda: pseudonymiser.reveal(tampered, ORG_A),
        lambda: pseudonymiser.translate(pseudonym, ORG_B, ORG_A),
    ):
        with pytest.raises(UnknownPseudonymError) as info:
            attempt()
        text = str(info.value) + repr(info.value)
        assert pseudonym not in text and tampered not in text and bsn.digits not in text
        assert info.value.__cause__ is None
        assert info.value.__suppress_context__ or info.value.__context__ is None


# --- domains and argument types ------------------------------------------------------------


@pytest.mark.parametrize(
    "domain",
    [
        "",
        "payload",
        "Audit",
        "00000001001234567000",  # an OIN without the prefix
        "pseudonym:1234",
        "pseudonym:000000010012345670001",
        "pseudonym:0000000100123456700a",
        "pseudonym:００００００01001234567000",
    ],
)
def test_strings_that_are_not_domains_are_refused(
    pseudonymiser: DomainPseudonymiser, domain: str
) -> None:
    with pytest.raises(ValueError):
        pseudonymiser.pseudonymise(VALID[0], domain)
    with pytest.raises(ValueError):
        pseudonymiser.issuer(domain)


def test_organisation_domain() -> None:
    assert organisation_domain("00000001001234567000") == ORG_A
    for bad in ("0000000100123456700", "0000000100123456700x", "", "pseudonym:1"):
        with pytest.raises(ValueError):
            organisation_domain(bad)


def test_pseudonymise_takes_a_bsn_not_a_string(pseudonymiser: DomainPseudonymiser) -> None:
    with pytest.raises(TypeError):
        pseudonymiser.pseudonymise("123456782", ORG_A)  # type: ignore[arg-type]


def test_issuer_matches_pseudonymise_and_validates(pseudonymiser: DomainPseudonymiser) -> None:
    issue = pseudonymiser.issuer(ORG_A)
    for bsn in VALID:
        assert issue(bsn.digits) == pseudonymiser.pseudonymise(bsn, ORG_A)
    for bad in ("123456789", "", "١٢٣٤٥٦٧٨٢", " 123456782"):
        with pytest.raises(InvalidBsnError):
            issue(bad)
    rotated = DomainPseudonymiser(KeyRing({1: SECRET_1, 2: SECRET_2}))
    assert rotated.issuer(ORG_A, version=1)(VALID[0].digits) == issue(VALID[0].digits)
