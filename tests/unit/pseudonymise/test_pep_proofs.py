"""Link proofs (ciphertext and tag are of the same child) and equality proofs (reply by pseudonym).

Each refusal is checked on a proof that the honest prover made for a false or changed statement,
or on an honest proof moved to another statement: a verifier that skipped any relation or any
part of the challenge would accept one of them.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pseudonymise import Bsn, generate_valid_bsns
from pseudonymise.pep import (
    EQUALITY_PROOF_BYTES,
    LINK_PROOF_BYTES,
    ElGamal,
    EncodingError,
    KeyIssuer,
    ProofError,
    TranscryptionFactors,
    bsn_element,
    decrypt,
    encrypt,
    group,
    link_tag,
    prove_equal,
    prove_link,
    rerandomise,
    transcrypt,
    verify_equal,
    verify_link,
)


def _valid_bsn(prefix: list[int]) -> Bsn | None:
    weighted = sum(d * w for d, w in zip(prefix, range(9, 1, -1), strict=True))
    check = weighted % 11
    if check == 10 or weighted == check:
        return None
    return Bsn("".join(map(str, prefix)) + str(check))


bsns = st.lists(st.integers(0, 9), min_size=8, max_size=8).map(_valid_bsn).filter(bool) | (
    st.integers(0, 10**6).map(lambda seed: Bsn(next(generate_valid_bsns(1, seed))))
)
oins = st.text(alphabet="0123456789", min_size=20, max_size=20)
contexts = oins.map(str.encode)
exchange_ids = st.text(alphabet="0123456789abcdef-", min_size=1, max_size=36)


def _issuer(seed: bytes) -> KeyIssuer:
    def derive(label: bytes) -> bytes:
        return hashlib.sha512(label + seed).digest()

    return KeyIssuer(
        group.keyed_scalar(derive(b"master"), "m"),
        group.keyed_scalar(derive(b"link"), "t"),
        derive(b"reshuffle"),
        derive(b"rekey"),
    )


ISSUER = _issuer(b"test_pep_proofs")
MASTER_PUBLIC = ISSUER.master_public_key
LINK_SECRET = ISSUER.secrets()["link"]
LINK_PUBLIC = ISSUER.link_public_key
OTHER_LINK_SECRET = _issuer(b"another issuer").secrets()["link"]
RECIPIENT = "pseudonym:00000001001234567000"
OTHER = "pseudonym:00000001009876543000"


class Sent:
    """What a partner sends in polymorphic mode: ciphertext, tag, proof (and what it knows)."""

    def __init__(self, bsn: Bsn, context: bytes, link_secret: bytes = LINK_SECRET) -> None:
        self.message = bsn_element(bsn)
        self.randomness = group.random_scalar()
        self.ciphertext = encrypt(self.message, MASTER_PUBLIC, self.randomness)
        self.tag = link_tag(self.message, link_secret)
        self.proof = prove_link(self.ciphertext, self.randomness, link_secret, self.tag, context)


def _flip(data: bytes, index: int, bit: int) -> bytes:
    return data[:index] + bytes([data[index] ^ (1 << bit)]) + data[index + 1 :]


# --- link proofs --------------------------------------------------------------------------------


@settings(max_examples=30)
@given(bsn=bsns, context=contexts)
def test_an_honest_link_proof_verifies(bsn: Bsn, context: bytes) -> None:
    sent = Sent(bsn, context)
    assert len(sent.proof) == LINK_PROOF_BYTES == 128
    assert sent.tag == group.mul(LINK_SECRET, bsn_element(bsn))
    verify_link(sent.ciphertext, LINK_PUBLIC, sent.tag, sent.proof, context)
    # The tag is the same for every encryption of the child; proofs are randomised.
    again = Sent(bsn, context)
    assert again.tag == sent.tag
    assert again.proof != sent.proof and again.ciphertext != sent.ciphertext


@settings(max_examples=30)
@given(bsn=bsns, other=bsns, context=contexts)
def test_a_link_proof_for_another_childs_tag_is_refused(
    bsn: Bsn, other: Bsn, context: bytes
) -> None:
    assume(bsn.digits != other.digits)
    sent = Sent(bsn, context)
    wrong_tag = link_tag(bsn_element(other), LINK_SECRET)
    # An honest proof with the tag swapped, and a proof made for the false statement.
    forged = prove_link(sent.ciphertext, sent.randomness, LINK_SECRET, wrong_tag, context)
    for proof in (sent.proof, forged):
        with pytest.raises(ProofError):
            verify_link(sent.ciphertext, LINK_PUBLIC, wrong_tag, proof, context)


@settings(max_examples=25)
@given(bsn=bsns, context=contexts)
def test_a_link_proof_with_another_link_secret_is_refused(bsn: Bsn, context: bytes) -> None:
    sent = Sent(bsn, context, link_secret=OTHER_LINK_SECRET)
    with pytest.raises(ProofError):
        verify_link(sent.ciphertext, LINK_PUBLIC, sent.tag, sent.proof, context)
    # Nor does the right tag go with a proof made with another secret.
    honest_tag = link_tag(sent.message, LINK_SECRET)
    with pytest.raises(ProofError):
        verify_link(sent.ciphertext, LINK_PUBLIC, honest_tag, sent.proof, context)


@settings(max_examples=25)
@given(bsn=bsns, context=contexts, other=contexts)
def test_a_link_proof_is_bound_to_its_context(bsn: Bsn, context: bytes, other: bytes) -> None:
    assume(context != other)
    sent = Sent(bsn, context)
    for wrong in (other, context + b"|", b"", context[:-1]):
        with pytest.raises(ProofError):
            verify_link(sent.ciphertext, LINK_PUBLIC, sent.tag, sent.proof, wrong)


@settings(max_examples=25)
@given(bsn=bsns, context=contexts)
def test_a_link_proof_is_bound_to_its_ciphertext(bsn: Bsn, context: bytes) -> None:
    sent = Sent(bsn, context)
    changed = [
        rerandomise(sent.ciphertext),  # same plaintext, other bytes
        encrypt(sent.message, MASTER_PUBLIC),  # another encryption of the same child
        ElGamal(sent.ciphertext.b, sent.ciphertext.c, ISSUER.factors(RECIPIENT).public_key),
        ElGamal(sent.ciphertext.c, sent.ciphertext.b, sent.ciphertext.y),
    ]
    for ciphertext in changed:
        with pytest.raises(ProofError):
            verify_link(ciphertext, LINK_PUBLIC, sent.tag, sent.proof, context)
    # And to the link public key.
    with pytest.raises(ProofError):
        verify_link(sent.ciphertext, MASTER_PUBLIC, sent.tag, sent.proof, context)


@settings(max_examples=30)
@given(bsn=bsns, index=st.integers(0, LINK_PROOF_BYTES - 1), bit=st.integers(0, 7))
def test_a_link_proof_with_a_flipped_bit_is_refused(bsn: Bsn, index: int, bit: int) -> None:
    sent = Sent(bsn, b"00000001001234567000")
    with pytest.raises(ProofError):
        verify_link(
            sent.ciphertext,
            LINK_PUBLIC,
            sent.tag,
            _flip(sent.proof, index, bit),
            b"00000001001234567000",
        )


def test_link_proofs_of_the_wrong_length_or_type_are_refused() -> None:
    context = b"00000001001234567000"
    sent = Sent(Bsn("111222333"), context)
    verify_link(sent.ciphertext, LINK_PUBLIC, sent.tag, sent.proof, context)
    for proof in (
        b"",
        sent.proof[:-1],
        sent.proof + b"\x00",
        sent.proof[:64],
        sent.proof + sent.proof,
        bytearray(sent.proof),
        sent.proof.hex(),
        None,
    ):
        with pytest.raises(ProofError):
            verify_link(sent.ciphertext, LINK_PUBLIC, sent.tag, proof, context)  # type: ignore[arg-type]


def test_a_link_proof_for_a_second_spelling_of_the_tag_is_refused() -> None:
    """The gateway keys consent, matching and audit on the tag bytes: one child, one tag."""
    context = b"00000001001234567000"
    sent = Sent(Bsn("111222333"), context)
    assert not sent.tag[31] & 0x80
    respelled = sent.tag[:31] + bytes([sent.tag[31] | 0x80])
    proof = prove_link(sent.ciphertext, sent.randomness, LINK_SECRET, respelled, context)
    # Parsed as the gateway parses a tag from the wire, then verified.
    with pytest.raises((EncodingError, ProofError)):
        verify_link(sent.ciphertext, LINK_PUBLIC, group.element(respelled), proof, context)


def test_link_proofs_with_non_canonical_scalars_are_refused() -> None:
    """Each response plus the group order is the same scalar mod L but another spelling."""
    context = b"00000001001234567000"
    sent = Sent(Bsn("111222333"), context)
    for part in range(4):
        value = int.from_bytes(sent.proof[32 * part : 32 * part + 32], "little") + group.ORDER
        if value >= 2**256:
            continue
        proof = (
            sent.proof[: 32 * part] + value.to_bytes(32, "little") + sent.proof[32 * part + 32 :]
        )
        with pytest.raises(ProofError):
            verify_link(sent.ciphertext, LINK_PUBLIC, sent.tag, proof, context)


# --- equality proofs ----------------------------------------------------------------------------


def _delivered(bsn: Bsn, domain: str = RECIPIENT) -> ElGamal:
    """The ciphertext a recipient received in polymorphic mode."""
    factors = ISSUER.factors(domain)
    to_domain = TranscryptionFactors.between(
        MASTER_PUBLIC, None, (factors.reshuffle, factors.rekey)
    )
    return transcrypt(encrypt(bsn_element(bsn), MASTER_PUBLIC), to_domain, rerandomise_output=True)


def _context(exchange_id: str) -> bytes:
    return f"00000001001234567000|{exchange_id}".encode("ascii")


@settings(max_examples=30)
@given(bsn=bsns, exchange_id=exchange_ids, rerandomised=st.booleans())
def test_an_honest_equality_proof_verifies(bsn: Bsn, exchange_id: str, rerandomised: bool) -> None:
    share = ISSUER.key_share(RECIPIENT)
    old = _delivered(bsn)
    pseudonym = decrypt(old, share.secret_key)
    new = rerandomise(old) if rerandomised else encrypt(pseudonym, share.public_key)
    proof = prove_equal(new, old, share.secret_key, _context(exchange_id))
    assert len(proof) == EQUALITY_PROOF_BYTES == 64
    verify_equal(new, old, proof, _context(exchange_id))


@settings(max_examples=30)
@given(bsn=bsns, other=bsns, exchange_id=exchange_ids)
def test_an_equality_proof_for_another_pseudonym_is_refused(
    bsn: Bsn, other: Bsn, exchange_id: str
) -> None:
    assume(bsn.digits != other.digits)
    share = ISSUER.key_share(RECIPIENT)
    old = _delivered(bsn)
    other_pseudonym = decrypt(_delivered(other), share.secret_key)
    new = encrypt(other_pseudonym, share.public_key)
    proof = prove_equal(new, old, share.secret_key, _context(exchange_id))
    with pytest.raises(ProofError):
        verify_equal(new, old, proof, _context(exchange_id))
    # Nor with the plaintext of the other child's element itself, unshuffled.
    new = encrypt(bsn_element(bsn), share.public_key)
    proof = prove_equal(new, old, share.secret_key, _context(exchange_id))
    with pytest.raises(ProofError):
        verify_equal(new, old, proof, _context(exchange_id))


@settings(max_examples=25)
@given(bsn=bsns, exchange_id=exchange_ids, other_id=exchange_ids)
def test_an_equality_proof_is_bound_to_its_context_and_ciphertexts(
    bsn: Bsn, exchange_id: str, other_id: str
) -> None:
    assume(exchange_id != other_id)
    share = ISSUER.key_share(RECIPIENT)
    old = _delivered(bsn)
    new = encrypt(decrypt(old, share.secret_key), share.public_key)
    proof = prove_equal(new, old, share.secret_key, _context(exchange_id))
    verify_equal(new, old, proof, _context(exchange_id))
    for context in (_context(other_id), b"00000001009876543000|" + exchange_id.encode(), b""):
        with pytest.raises(ProofError):
            verify_equal(new, old, proof, context)
    for moved_new, moved_old in ((rerandomise(new), old), (new, rerandomise(old)), (old, new)):
        with pytest.raises(ProofError):
            verify_equal(moved_new, moved_old, proof, _context(exchange_id))


@settings(max_examples=25)
@given(bsn=bsns, exchange_id=exchange_ids)
def test_an_equality_proof_under_another_key_is_refused(bsn: Bsn, exchange_id: str) -> None:
    share, other = ISSUER.key_share(RECIPIENT), ISSUER.key_share(OTHER)
    old = _delivered(bsn)
    pseudonym = decrypt(old, share.secret_key)
    context = _context(exchange_id)
    # The same pseudonym encrypted under another organisation's key.
    new = encrypt(pseudonym, other.public_key)
    with pytest.raises(ProofError):
        prove_equal(new, old, share.secret_key, context)
    honest_new = encrypt(pseudonym, share.public_key)
    proof = prove_equal(honest_new, old, share.secret_key, context)
    with pytest.raises(ProofError):
        verify_equal(new, old, proof, context)
    # Both relabelled to another key: the proof was for the recipient's key.
    relabel = ElGamal(honest_new.b, honest_new.c, other.public_key)
    relabel_old = ElGamal(old.b, old.c, other.public_key)
    with pytest.raises(ProofError):
        verify_equal(relabel, relabel_old, proof, context)
    # Proved with another organisation's secret for ciphertexts under the recipient's key.
    with pytest.raises(ProofError):
        verify_equal(
            honest_new, old, prove_equal(honest_new, old, other.secret_key, context), context
        )


@settings(max_examples=30)
@given(bsn=bsns, index=st.integers(0, EQUALITY_PROOF_BYTES - 1), bit=st.integers(0, 7))
def test_an_equality_proof_with_a_flipped_bit_is_refused(bsn: Bsn, index: int, bit: int) -> None:
    share = ISSUER.key_share(RECIPIENT)
    old = _delivered(bsn)
    new = rerandomise(old)
    proof = prove_equal(new, old, share.secret_key, _context("x"))
    with pytest.raises(ProofError):
        verify_equal(new, old, _flip(proof, index, bit), _context("x"))


def test_equality_proofs_of_the_wrong_length_and_unchanged_ciphertexts_are_refused() -> None:
    share = ISSUER.key_share(RECIPIENT)
    old = _delivered(Bsn("111222333"))
    new = rerandomise(old)
    proof = prove_equal(new, old, share.secret_key, b"c")
    verify_equal(new, old, proof, b"c")
    for bad in (b"", proof[:-1], proof + b"\x00", proof + proof, proof[:32], bytearray(proof)):
        with pytest.raises(ProofError):
            verify_equal(new, old, bad, b"c")  # type: ignore[arg-type]
    # The very same ciphertext sent back proves nothing, and the prover refuses it too.
    with pytest.raises(ProofError):
        prove_equal(old, old, share.secret_key, b"c")
    with pytest.raises(ProofError):
        verify_equal(old, old, proof, b"c")
