"""Polymorphic ElGamal: stable domain pseudonyms, PEP algebra, wrong keys, strict encodings.

Every property is checked against values computed independently with ``pseudonymise.pep.group``
(``s*M``, ``k*y``), so a transcryption that merely round-tripped, or one that forgot the
reshuffle or the rekey, would fail here.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pseudonymise import Bsn, generate_valid_bsns, organisation_domain
from pseudonymise.pep import (
    CIPHERTEXT_BYTES,
    ElGamal,
    EncodingError,
    KeyIssuer,
    TranscryptionFactors,
    WrongKeyError,
    bsn_element,
    decrypt,
    encrypt,
    group,
    rekey,
    rerandomise,
    reshuffle,
    reshuffle_rekey,
    transcrypt,
)
from pseudonymise.pep.elgamal import decode_base64, encode_base64

# --- strategies and fixed keys ------------------------------------------------------------------


def _valid_bsn(prefix: list[int]) -> Bsn | None:
    """The BSN with these eight leading digits, by the elfproef; None when there is none."""
    weighted = sum(d * w for d, w in zip(prefix, range(9, 1, -1), strict=True))
    check = weighted % 11
    if check == 10 or weighted == check:
        return None
    return Bsn("".join(map(str, prefix)) + str(check))


elfproef_bsns = st.lists(st.integers(0, 9), min_size=8, max_size=8).map(_valid_bsn).filter(bool)
bsns = elfproef_bsns | st.integers(0, 10**6).map(
    lambda seed: Bsn(next(generate_valid_bsns(1, seed)))
)
oins = st.text(alphabet="0123456789", min_size=20, max_size=20)
domains = oins.map(organisation_domain)
scalars = st.integers(1, group.ORDER - 1).map(lambda v: v.to_bytes(32, "little"))


def _issuer(seed: bytes) -> KeyIssuer:
    """A key issuer whose four secrets are derived from ``seed`` (random-looking, never weak)."""

    def derive(label: bytes) -> bytes:
        return hashlib.sha512(label + seed).digest()

    master = group.keyed_scalar(derive(b"master"), "m")
    link = group.keyed_scalar(derive(b"link"), "t")
    return KeyIssuer(master, link, derive(b"reshuffle"), derive(b"rekey"))


ISSUER = _issuer(b"test_pep_elgamal")
MASTER_PUBLIC = ISSUER.master_public_key
MASTER_SECRET = ISSUER.secrets()["master"]
ORG_A = organisation_domain("00000001001234567000")
ORG_B = organisation_domain("00000001009876543000")


def _to_domain(domain: str, issuer: KeyIssuer = ISSUER) -> TranscryptionFactors:
    """What the gateway precomputes to transcrypt from the master key into ``domain``."""
    factors = issuer.factors(domain)
    return TranscryptionFactors.between(
        issuer.master_public_key, None, (factors.reshuffle, factors.rekey)
    )


def _pseudonym(bsn: Bsn, domain: str, rerandomise_before: bool, rerandomise_after: bool) -> bytes:
    """Encrypt under the master key, transcrypt into ``domain``, decrypt with its key share."""
    ciphertext = encrypt(bsn_element(bsn), MASTER_PUBLIC)
    if rerandomise_before:
        ciphertext = rerandomise(ciphertext)
    delivered = transcrypt(ciphertext, _to_domain(domain), rerandomise_output=rerandomise_after)
    return decrypt(delivered, ISSUER.key_share(domain).secret_key)


# --- domain pseudonyms --------------------------------------------------------------------------


@settings(max_examples=40)
@given(bsn=bsns, domain=domains, before=st.booleans(), after=st.booleans())
def test_domain_pseudonym_is_stable_and_is_the_reshuffled_element(
    bsn: Bsn, domain: str, before: bool, after: bool
) -> None:
    message = bsn_element(bsn)
    factors = _to_domain(domain)
    expected = group.mul(factors.reshuffle, message)
    assert expected == group.mul(ISSUER.factors(domain).reshuffle, message)
    assert expected != message

    first = encrypt(message, MASTER_PUBLIC)
    second = encrypt(message, MASTER_PUBLIC)
    assert first.to_bytes() != second.to_bytes()  # fresh randomness each time

    assert _pseudonym(bsn, domain, before, after) == expected
    assert _pseudonym(bsn, domain, not before, not after) == expected
    secret = ISSUER.key_share(domain).secret_key
    for ciphertext in (first, second):
        assert decrypt(transcrypt(ciphertext, factors), secret) == expected


@settings(max_examples=30)
@given(bsn=bsns, a=domains, b=domains)
def test_recipients_get_different_pseudonyms(bsn: Bsn, a: str, b: str) -> None:
    assume(a != b)
    assert _pseudonym(bsn, a, False, True) != _pseudonym(bsn, b, False, True)


@settings(max_examples=30)
@given(first=bsns, second=bsns, domain=domains)
def test_children_get_different_pseudonyms(first: Bsn, second: Bsn, domain: str) -> None:
    assume(first.digits != second.digits)
    assert bsn_element(first) != bsn_element(second)
    assert _pseudonym(first, domain, True, False) != _pseudonym(second, domain, True, False)


def test_many_children_and_recipients_are_all_distinct() -> None:
    children = [Bsn(d) for d in dict.fromkeys(generate_valid_bsns(20, seed=7))]
    recipients = [ORG_A, ORG_B, organisation_domain("0" * 20)]
    seen = {_pseudonym(c, d, False, True) for c in children for d in recipients}
    assert len(seen) == len(children) * len(recipients)


def test_bsn_element_is_the_documented_map() -> None:
    bsn = Bsn(next(generate_valid_bsns(1, seed=1)))
    digest = hashlib.sha512(b"thuiszitterspact/pep/bsn/v1\x00" + bsn.digits.encode()).digest()
    assert bsn_element(bsn) == group.hash_to_element(digest)
    with pytest.raises(TypeError):
        bsn_element(bsn.digits)  # type: ignore[arg-type]


# --- rerandomise, reshuffle, rekey --------------------------------------------------------------


@settings(max_examples=40)
@given(bsn=bsns, domain=domains)
def test_rerandomise_keeps_the_plaintext_and_changes_the_bytes(bsn: Bsn, domain: str) -> None:
    message = bsn_element(bsn)
    share = ISSUER.key_share(domain)
    for ciphertext, secret in (
        (encrypt(message, MASTER_PUBLIC), MASTER_SECRET),
        (encrypt(message, share.public_key), share.secret_key),
    ):
        fresh = rerandomise(ciphertext)
        assert fresh.b != ciphertext.b and fresh.c != ciphertext.c
        assert fresh.y == ciphertext.y
        assert decrypt(fresh, secret) == decrypt(ciphertext, secret) == message
        # Rerandomised inputs transcrypt to the same output plaintext.
        if secret == MASTER_SECRET:
            factors = _to_domain(domain)
            assert decrypt(transcrypt(fresh, factors), share.secret_key) == decrypt(
                transcrypt(ciphertext, factors), share.secret_key
            )


@given(r=scalars, extra=scalars)
def test_rerandomise_with_given_randomness_is_encryption_with_the_sum(
    r: bytes, extra: bytes
) -> None:
    total = group.scalar_add(r, extra)
    assume(total != bytes(32))
    message = bsn_element(Bsn("111222333"))
    assert rerandomise(encrypt(message, MASTER_PUBLIC, r), extra) == encrypt(
        message, MASTER_PUBLIC, total
    )


@settings(max_examples=40)
@given(bsn=bsns, s=scalars, k=scalars)
def test_reshuffle_and_rekey_algebra(bsn: Bsn, s: bytes, k: bytes) -> None:
    message = bsn_element(bsn)
    ciphertext = encrypt(message, MASTER_PUBLIC)

    shuffled = reshuffle(ciphertext, s)
    assert shuffled.y == MASTER_PUBLIC
    assert decrypt(shuffled, MASTER_SECRET) == group.mul(s, message)

    rekeyed = rekey(ciphertext, k)
    new_secret = group.scalar_mul(k, MASTER_SECRET)
    assert rekeyed.y == group.mul(k, MASTER_PUBLIC) == group.mul_base(new_secret)
    assert decrypt(rekeyed, new_secret) == message
    if k != (1).to_bytes(32, "little"):
        with pytest.raises(WrongKeyError):
            decrypt(rekeyed, MASTER_SECRET)

    # reshuffle_rekey is both at once, and equals the composition.
    factors = TranscryptionFactors.between(MASTER_PUBLIC, None, (s, k))
    both = reshuffle_rekey(ciphertext, factors)
    assert both == rekey(reshuffle(ciphertext, s), k)
    assert both.y == factors.target_key == rekeyed.y
    assert decrypt(both, new_secret) == group.mul(s, message)


@settings(max_examples=30)
@given(bsn=bsns, a=domains, b=domains, after=st.booleans())
def test_transcryption_between_organisation_domains(bsn: Bsn, a: str, b: str, after: bool) -> None:
    assume(a != b)
    message = bsn_element(bsn)
    in_a = transcrypt(encrypt(message, MASTER_PUBLIC), _to_domain(a), rerandomise_output=True)
    source, target = ISSUER.factors(a), ISSUER.factors(b)
    a_to_b = TranscryptionFactors.between(
        source.public_key, (source.reshuffle, source.rekey), (target.reshuffle, target.rekey)
    )
    assert a_to_b.source_key == source.public_key
    assert a_to_b.target_key == target.public_key
    assert a_to_b.reshuffle == group.scalar_mul(
        target.reshuffle, group.scalar_invert(source.reshuffle)
    )

    in_b = transcrypt(in_a, a_to_b, rerandomise_output=after)
    assert in_b.y == target.public_key
    assert decrypt(in_b, ISSUER.key_share(b).secret_key) == group.mul(target.reshuffle, message)
    assert decrypt(in_b, ISSUER.key_share(b).secret_key) == _pseudonym(bsn, b, False, False)


# --- wrong keys ---------------------------------------------------------------------------------


@settings(max_examples=30)
@given(bsn=bsns, a=domains, b=domains)
def test_only_the_recipient_can_decrypt(bsn: Bsn, a: str, b: str) -> None:
    assume(a != b)
    delivered = transcrypt(encrypt(bsn_element(bsn), MASTER_PUBLIC), _to_domain(a))
    share_a, share_b = ISSUER.key_share(a), ISSUER.key_share(b)
    for wrong in (share_b.secret_key, MASTER_SECRET, share_b.link_secret):
        with pytest.raises(WrongKeyError):
            decrypt(delivered, wrong)

    # A ciphertext that claims another key: refused by the real recipient, and what the
    # holder of the claimed key gets is no pseudonym of the child.
    relabelled = ElGamal(delivered.b, delivered.c, share_b.public_key)
    with pytest.raises(WrongKeyError):
        decrypt(relabelled, share_a.secret_key)
    garbage = decrypt(relabelled, share_b.secret_key)
    assert garbage not in (_pseudonym(bsn, a, False, False), _pseudonym(bsn, b, False, False))


@settings(max_examples=25)
@given(bsn=bsns, a=domains, b=domains)
def test_reshuffle_rekey_refuses_a_ciphertext_under_another_key(bsn: Bsn, a: str, b: str) -> None:
    assume(a != b)
    message = bsn_element(bsn)
    source = ISSUER.factors(a)
    a_to_b = TranscryptionFactors.between(
        source.public_key,
        (source.reshuffle, source.rekey),
        (ISSUER.factors(b).reshuffle, ISSUER.factors(b).rekey),
    )
    under_master = encrypt(message, MASTER_PUBLIC)
    under_b = encrypt(message, ISSUER.factors(b).public_key)
    for ciphertext in (under_master, under_b):
        with pytest.raises(WrongKeyError):
            reshuffle_rekey(ciphertext, a_to_b)
        with pytest.raises(WrongKeyError):
            transcrypt(ciphertext, a_to_b, rerandomise_output=True)
    with pytest.raises(WrongKeyError):
        reshuffle_rekey(encrypt(message, source.public_key), _to_domain(b))


# --- encodings ----------------------------------------------------------------------------------


def _ciphertext() -> ElGamal:
    return encrypt(bsn_element(Bsn("111222333")), MASTER_PUBLIC)


@given(bsn=bsns)
def test_ciphertext_round_trips_through_bytes_and_base64(bsn: Bsn) -> None:
    ciphertext = encrypt(bsn_element(bsn), MASTER_PUBLIC)
    assert len(ciphertext.to_bytes()) == CIPHERTEXT_BYTES == 96
    assert ElGamal.from_bytes(ciphertext.to_bytes()) == ciphertext
    text = ciphertext.to_base64()
    assert text == base64.b64encode(ciphertext.to_bytes()).decode()
    assert ElGamal.from_base64(text) == ciphertext


@given(data=st.binary(max_size=200).filter(lambda d: len(d) != 96))
def test_from_bytes_refuses_wrong_lengths(data: bytes) -> None:
    with pytest.raises(EncodingError):
        ElGamal.from_bytes(data)
    with pytest.raises(EncodingError):
        ElGamal.from_base64(base64.b64encode(data).decode())


def test_from_bytes_refuses_other_types() -> None:
    raw = _ciphertext().to_bytes()
    for value in (bytearray(raw), memoryview(raw), raw.hex(), None):
        with pytest.raises(EncodingError):
            ElGamal.from_bytes(value)  # type: ignore[arg-type]
    for value in (raw, None, 5):
        with pytest.raises(EncodingError):
            ElGamal.from_base64(value)  # type: ignore[arg-type]


P = 2**255 - 19
_GENERATOR = group.mul_base((1).to_bytes(32, "little"))
NON_ELEMENTS = [
    bytes(32),  # the identity
    b"\xff" * 32,
    P.to_bytes(32, "little"),  # the identity, spelled as p
    (P + 2).to_bytes(32, "little"),  # s >= p
    (1).to_bytes(32, "little"),  # s odd ("negative"): not canonical
    _GENERATOR[:31] + bytes([_GENERATOR[31] | 0x80]),  # G with bit 255 set
]


@pytest.mark.parametrize("part", [0, 1, 2])
@pytest.mark.parametrize("bad", NON_ELEMENTS, ids=["identity", "ff", "p", "p+2", "odd", "top-bit"])
def test_from_bytes_refuses_identity_and_non_canonical_points(part: int, bad: bytes) -> None:
    parts = [_ciphertext().b, _ciphertext().c, _ciphertext().y]
    parts[part] = bad
    with pytest.raises(EncodingError):
        ElGamal.from_bytes(b"".join(parts))
    with pytest.raises(EncodingError):
        ElGamal.from_base64(encode_base64(b"".join(parts)))
    with pytest.raises(EncodingError):
        group.element(bad)


def _flip(point: bytes, index: int, mask: int) -> bytes:
    return point[:index] + bytes([point[index] ^ mask]) + point[index + 1 :]


# Random strings are mostly refused; mutations of real elements probe the boundary.
candidate_elements = st.one_of(
    st.binary(min_size=32, max_size=32),
    scalars.map(group.mul_base),
    st.builds(_flip, scalars.map(group.mul_base), st.integers(0, 31), st.integers(1, 255)),
)


@given(data=candidate_elements)
def test_accepted_elements_are_canonical_and_not_the_identity(data: bytes) -> None:
    """Canonical: the encoding libsodium writes back for the decoded element is ``data``."""
    try:
        accepted = group.element(data)
    except EncodingError:
        return
    assert accepted == data != group.IDENTITY
    assert group.mul((1).to_bytes(32, "little"), data) == data


@given(factor=scalars)
def test_an_element_with_the_top_bit_set_is_refused(factor: bytes) -> None:
    """libsodium 1.0.18 ignores bit 255, so without this check every element had two spellings."""
    element = group.mul_base(factor)
    assert not element[31] & 0x80  # canonical encodings never set it
    with pytest.raises(EncodingError):
        group.element(element[:31] + bytes([element[31] | 0x80]))


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _trailing_bit_spellings(raw: bytes) -> list[str]:
    """The other spellings of ``raw`` that set unused bits of the last character.

    The standard library decodes each of them to ``raw``; a strict decoder must refuse them.
    """
    text = encode_base64(raw)
    unused = {0: 0, 1: 4, 2: 2}[len(raw) % 3]
    body = text.rstrip("=")
    padding = text[len(body) :]
    index = ALPHABET.index(body[-1])
    return [body[:-1] + ALPHABET[index ^ bits] + padding for bits in range(1, 2**unused)]


def _base64_variants(raw: bytes) -> list[str]:
    """Spellings of (almost) ``raw`` that a strict decoder must refuse."""
    text = encode_base64(raw)
    body = text.rstrip("=")
    variants = [
        " " + text,
        text + "\n",
        text[:1] + " " + text[2:],  # whitespace in place of a character: same length
        text[:1] + "\n" + text[2:],
        "-" + text[1:],  # the URL-safe alphabet
        "_" + text[1:],
        text + "=",
        text + "AAAA",
        text[:-4],
        text[:-1] + "\u00e9",
        text[:-1] + "*",
        *_trailing_bit_spellings(raw),
    ]
    if body != text:
        variants.append(body)  # missing padding
    return variants


def test_base64_of_ciphertexts_has_one_spelling() -> None:
    raw = _ciphertext().to_bytes()
    assert ElGamal.from_base64(encode_base64(raw)).to_bytes() == raw
    for text in _base64_variants(raw):
        with pytest.raises(EncodingError):
            ElGamal.from_base64(text)


@given(raw=st.binary(min_size=1, max_size=40))
def test_decode_base64_refuses_every_non_canonical_spelling(raw: bytes) -> None:
    assert decode_base64(encode_base64(raw), len(raw)) == raw
    for text in _trailing_bit_spellings(raw):
        assert base64.b64decode(text) == raw  # a lenient decoder reads the same bytes
    for text in _base64_variants(raw):
        with pytest.raises(EncodingError):
            decode_base64(text, len(raw))
    with pytest.raises(EncodingError):
        decode_base64(encode_base64(raw), len(raw) + 1)


def test_trailing_bits_and_missing_padding_of_a_32_byte_key() -> None:
    key = MASTER_PUBLIC
    text = encode_base64(key)
    assert len(text) == 44 and text.endswith("=") and not text.endswith("==")
    assert decode_base64(text, 32) == key
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    index = alphabet.index(text[42])
    sloppy = text[:42] + alphabet[index ^ 1] + "="  # one of the two unused bits set
    assert base64.b64decode(sloppy) == key  # the standard library reads it as the same key
    for bad in (sloppy, text[:43], text[:43] + "==", text + "\n", "\t" + text[1:]):
        with pytest.raises(EncodingError):
            decode_base64(bad, 32)


# --- scalars ------------------------------------------------------------------------------------


@given(value=st.integers(0, 2**256 - 1))
def test_scalar_accepts_exactly_the_canonical_non_zero_values(value: int) -> None:
    data = value.to_bytes(32, "little")
    if 0 < value < group.ORDER:
        assert group.scalar(data) == data
    else:
        with pytest.raises(EncodingError):
            group.scalar(data)


@pytest.mark.parametrize(
    "value", [0, group.ORDER, group.ORDER + 1, 2**252 + 2**128, 2**255, 2**256 - 1]
)
def test_scalar_refuses_zero_and_values_at_or_above_the_order(value: int) -> None:
    with pytest.raises(EncodingError):
        group.scalar(value.to_bytes(32, "little"))


@pytest.mark.parametrize("data", [b"", bytes(31), b"\x01" * 33, "01" * 16, bytearray(b"\x01" * 32)])
def test_scalar_refuses_wrong_lengths_and_types(data: object) -> None:
    with pytest.raises(EncodingError):
        group.scalar(data)  # type: ignore[arg-type]


def test_scalar_accepts_the_extremes() -> None:
    for value in (1, group.ORDER - 1):
        data = value.to_bytes(32, "little")
        assert group.scalar(data) == data
