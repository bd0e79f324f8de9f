"""The key issuer: deterministic factors, consistent key shares, hidden secrets, and a
transcryptor (the gateway) whose holdings cannot decrypt nor compute link tags.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from itertools import permutations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pseudonymise import Bsn, generate_valid_bsns, organisation_domain
from pseudonymise.pep import (
    DomainFactors,
    EncodingError,
    KeyIssuer,
    TranscryptionFactors,
    WrongKeyError,
    bsn_element,
    decrypt,
    encrypt,
    group,
    link_tag,
    transcrypt,
)

oins = st.text(alphabet="0123456789", min_size=20, max_size=20)
domains = oins.map(organisation_domain)
seeds = st.binary(min_size=1, max_size=32)
bsns = st.integers(0, 10**6).map(lambda seed: Bsn(next(generate_valid_bsns(1, seed))))


def _issuer(seed: bytes) -> KeyIssuer:
    """A key issuer whose four secrets are derived from ``seed`` (random-looking, never weak)."""

    def derive(label: bytes) -> bytes:
        return hashlib.sha512(label + seed).digest()

    return KeyIssuer(
        group.keyed_scalar(derive(b"master"), "m"),
        group.keyed_scalar(derive(b"link"), "t"),
        derive(b"reshuffle"),
        derive(b"rekey"),
    )


def _spellings(secret: bytes) -> list[str]:
    """Ways a secret could show up in text: hex, base64 in its variants, Python's bytes repr."""
    return [
        secret.hex(),
        secret.hex().upper(),
        base64.b64encode(secret).decode(),
        base64.urlsafe_b64encode(secret).decode().rstrip("="),
        repr(secret),
        str(list(secret)),
    ]


# --- determinism and consistency ----------------------------------------------------------------


@settings(max_examples=30)
@given(seed=seeds, domain=domains)
def test_factors_are_deterministic_given_the_same_secrets(seed: bytes, domain: str) -> None:
    issuer = _issuer(seed)
    rebuilt = KeyIssuer(**_constructor_arguments(issuer.secrets()))
    assert rebuilt.factors(domain) == issuer.factors(domain)
    assert rebuilt.key_share(domain) == issuer.key_share(domain)
    assert rebuilt.master_public_key == issuer.master_public_key
    assert rebuilt.link_public_key == issuer.link_public_key
    # A new issuer from the same secrets gives the same pseudonym for the same child.
    share = issuer.key_share(domain)
    to_domain = _master_to(rebuilt, domain)
    message = bsn_element(Bsn("111222333"))
    pseudonym = decrypt(
        transcrypt(encrypt(message, issuer.master_public_key), to_domain), share.secret_key
    )
    assert pseudonym == group.mul(issuer.factors(domain).reshuffle, message)


def _constructor_arguments(secrets: dict[str, bytes]) -> dict[str, bytes]:
    return {
        "master": secrets["master"],
        "link": secrets["link"],
        "reshuffle_secret": secrets["reshuffle"],
        "rekey_secret": secrets["rekey"],
    }


def _master_to(issuer: KeyIssuer, domain: str) -> TranscryptionFactors:
    factors = issuer.factors(domain)
    return TranscryptionFactors.between(
        issuer.master_public_key, None, (factors.reshuffle, factors.rekey)
    )


@settings(max_examples=30)
@given(seed=seeds, a=domains, b=domains)
def test_factors_differ_across_domains(seed: bytes, a: str, b: str) -> None:
    assume(a != b)
    issuer = _issuer(seed)
    fa, fb = issuer.factors(a), issuer.factors(b)
    assert (fa.domain, fb.domain) == (a, b)
    assert fa.reshuffle != fb.reshuffle
    assert fa.rekey != fb.rekey
    assert fa.public_key != fb.public_key
    assert fa.reshuffle != fa.rekey  # two independent derivations
    assert issuer.key_share(a).secret_key != issuer.key_share(b).secret_key


@settings(max_examples=20)
@given(a=seeds, b=seeds, domain=domains)
def test_factors_differ_across_issuers(a: bytes, b: bytes, domain: str) -> None:
    assume(a != b)
    fa, fb = _issuer(a).factors(domain), _issuer(b).factors(domain)
    assert fa.reshuffle != fb.reshuffle and fa.rekey != fb.rekey


@settings(max_examples=30)
@given(seed=seeds, domain=domains)
def test_key_share_is_consistent_with_the_factors(seed: bytes, domain: str) -> None:
    issuer = _issuer(seed)
    factors, share = issuer.factors(domain), issuer.key_share(domain)
    assert share.domain == domain
    assert share.public_key == group.mul_base(share.secret_key) == factors.public_key
    assert factors.public_key == group.mul(factors.rekey, issuer.master_public_key)
    assert share.secret_key == group.scalar_mul(factors.rekey, issuer.secrets()["master"])
    assert share.master_public_key == issuer.master_public_key
    assert share.link_public_key == group.mul_base(share.link_secret) == issuer.link_public_key
    for scalar in (factors.reshuffle, factors.rekey, share.secret_key, share.link_secret):
        assert group.scalar(scalar) == scalar
    for element in (factors.public_key, share.master_public_key, share.link_public_key):
        assert group.element(element) == element


def test_factors_are_the_documented_hmac_derivation() -> None:
    issuer = _issuer(b"documented")
    secrets = issuer.secrets()
    domain = "pseudonym:00000001001234567000"

    def derived(key: bytes, label: str) -> bytes:
        digest = hmac.digest(key, label.encode(), "sha512")
        return (int.from_bytes(digest, "little") % group.ORDER).to_bytes(32, "little")

    factors = issuer.factors(domain)
    assert factors.reshuffle == derived(secrets["reshuffle"], "reshuffle:" + domain)
    assert factors.rekey == derived(secrets["rekey"], "rekey:" + domain)


def test_key_issuer_refuses_bad_secrets() -> None:
    good = _constructor_arguments(_issuer(b"x").secrets())
    for name, bad in (
        ("master", bytes(32)),
        ("master", group.ORDER.to_bytes(32, "little")),
        ("master", b"\x01" * 31),
        ("link", bytes(32)),
        ("link", b"\xff" * 32),
    ):
        with pytest.raises(EncodingError):
            KeyIssuer(**{**good, name: bad})
    for name in ("reshuffle_secret", "rekey_secret"):
        for bad in (b"", bytes(31), "x" * 32):
            with pytest.raises(ValueError):
                KeyIssuer(**{**good, name: bad})


def test_generated_issuers_are_independent() -> None:
    first, second = KeyIssuer.generate(), KeyIssuer.generate()
    for name in ("master", "link", "reshuffle", "rekey"):
        assert first.secrets()[name] != second.secrets()[name]
    assert first.master_public_key != second.master_public_key


# --- secrets stay out of repr -------------------------------------------------------------------


@settings(max_examples=20)
@given(seed=seeds, domain=domains)
def test_repr_shows_no_secret(seed: bytes, domain: str) -> None:
    issuer = _issuer(seed)
    share = issuer.key_share(domain)
    texts = [repr(issuer), str(issuer), f"{issuer!r}", repr(share), str(share), f"{share}"]
    secrets = [*issuer.secrets().values(), share.secret_key, share.link_secret]
    for text in texts:
        for secret in secrets:
            for spelling in _spellings(secret):
                assert spelling not in text
    assert domain in repr(share)
    assert "hidden" in repr(share) and "hidden" in repr(issuer)
    # Formatting a container of shares goes through the same repr.
    assert all(s not in repr([share]) for s in _spellings(share.secret_key))


# --- the transcryptor's holdings ----------------------------------------------------------------


def _holdings(issuer: KeyIssuer, names: list[str]) -> tuple[list[DomainFactors], list[bytes]]:
    """Every factor the gateway holds for ``names``, and every scalar built from them."""
    factors = [issuer.factors(name) for name in names]
    base = [f.reshuffle for f in factors] + [f.rekey for f in factors]
    base = list(dict.fromkeys(base))
    one = (1).to_bytes(32, "little")
    candidates = [one, *base, *(group.scalar_invert(x) for x in base)]
    for x, y in permutations(base, 2):
        candidates.append(group.scalar_mul(x, y))
        candidates.append(group.scalar_mul(x, group.scalar_invert(y)))
    for x in base:
        candidates.append(group.scalar_mul(x, x))
    # Also what TranscryptionFactors precompute between every ordered pair of domains.
    for source, target in permutations(factors, 2):
        between = TranscryptionFactors.between(
            source.public_key,
            (source.reshuffle, source.rekey),
            (target.reshuffle, target.rekey),
        )
        candidates += [between.reshuffle, between.reshuffle_over_rekey]
    return factors, [c for c in dict.fromkeys(candidates) if c != bytes(32)]


@settings(max_examples=12)
@given(seed=seeds, bsn=bsns)
def test_the_transcryptors_holdings_cannot_decrypt(seed: bytes, bsn: Bsn) -> None:
    issuer = _issuer(seed)
    names = [
        "pseudonym:00000001001234567000",
        "pseudonym:00000001009876543000",
        "pseudonym:00000000000000000001",
    ]
    factors, candidates = _holdings(issuer, names)
    assert len(candidates) > 40
    master_public, link_public = issuer.master_public_key, issuer.link_public_key
    message = bsn_element(bsn)
    tag = link_tag(message, issuer.secrets()["link"])
    polymorphic = encrypt(message, master_public)
    # What the gateway also sees: the ciphertexts it delivered into each domain.
    delivered = [transcrypt(polymorphic, _master_to(issuer, name)) for name in names]
    pseudonyms = [group.mul(f.reshuffle, message) for f in factors]
    public_keys = {master_public, link_public, *(f.public_key for f in factors)}

    # The real keys do decrypt (so the checks below can fail).
    assert decrypt(polymorphic, issuer.secrets()["master"]) == message
    for name, ciphertext, pseudonym in zip(names, delivered, pseudonyms, strict=True):
        assert decrypt(ciphertext, issuer.key_share(name).secret_key) == pseudonym

    secrets = {issuer.secrets()["master"], issuer.secrets()["link"]}
    secrets |= {issuer.key_share(name).secret_key for name in names}
    for x in candidates:
        assert x not in secrets
        assert group.mul_base(x) not in public_keys
        assert group.mul(x, message) != tag  # no link tags without the link secret
        for ciphertext in (polymorphic, *delivered):
            with pytest.raises(WrongKeyError):
                decrypt(ciphertext, x)
            # Skip the key check of decrypt: c - x*b is still no plaintext.
            opened = group.sub(ciphertext.c, group.mul(x, ciphertext.b))
            assert opened != message
            assert opened not in pseudonyms
