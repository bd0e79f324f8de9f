"""The partner library's polymorphic cryptography interoperates with the gateway's own.

The library (``clients/python``) is written apart from ``pseudonymise.pep``; these tests make
each side check the other: proofs the library makes verify with the gateway's verifiers, and
what the gateway transcrypts decrypts with the library to the pseudonym the gateway's math
says it should be.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from joserfc import jwe
from joserfc.jwk import ECKey
from thuiszitterspact_client import (
    EncodingError,
    InvalidBsnError,
    KeyShare,
    KeyShareError,
    PepError,
    PublicKeys,
    WrongKeyError,
    bsn_element,
    decrypt_pseudonym,
    open_key_share,
    polymorphic_subject,
    reply_subject,
)
from thuiszitterspact_client import group as client_group

from pseudonymise import generate_valid_bsns
from pseudonymise import pep as gw
from pseudonymise.bsn import Bsn
from pseudonymise.pep import group as gw_group

BSN = "123456782"
SCHOOL = "00000001001234567000"
GGD = "00000001003456789000"
EXCHANGE_ID = "0190f3a2-7c1e-7e55-9d4b-2f0a4c1b9e01"
CLIENT_ROOT = Path(__file__).resolve().parents[3] / "clients" / "python"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def share_json(issuer: gw.KeyIssuer, oin: str) -> dict:
    """The key-share plaintext as docs/polymorphic.md describes it."""
    share = issuer.key_share("pseudonym:" + oin)
    return {
        "domain": share.domain,
        "organisation": oin,
        "version": 1,
        "secret_key": b64(share.secret_key),
        "public_key": b64(share.public_key),
        "master_public_key": b64(share.master_public_key),
        "link_secret": b64(share.link_secret),
        "link_public_key": b64(share.link_public_key),
    }


def public_json(issuer: gw.KeyIssuer) -> dict:
    return {
        "version": 1,
        "group": "ristretto255",
        "master_public_key": b64(issuer.master_public_key),
        "link_public_key": b64(issuer.link_public_key),
    }


@pytest.fixture(scope="module")
def issuer() -> gw.KeyIssuer:
    return gw.KeyIssuer.generate()


@pytest.fixture(scope="module")
def public(issuer) -> PublicKeys:
    return PublicKeys.from_json(public_json(issuer))


@pytest.fixture(scope="module")
def school_share(issuer) -> KeyShare:
    return KeyShare.from_json(share_json(issuer, SCHOOL))


@pytest.fixture(scope="module")
def ggd_share(issuer) -> KeyShare:
    return KeyShare.from_json(share_json(issuer, GGD))


def split_polymorphic(subject: dict) -> tuple[gw.ElGamal, bytes, bytes]:
    raw = base64.b64decode(subject["polymorphic"], validate=True)
    assert len(raw) == 96 + 32 + 128
    return gw.ElGamal.from_bytes(raw[:96]), raw[96:128], raw[128:]


def to_domain(issuer: gw.KeyIssuer, ciphertext: gw.ElGamal, oin: str) -> gw.ElGamal:
    """What the gateway does: transcrypt from the master domain into ``oin``'s domain."""
    factors = issuer.factors("pseudonym:" + oin)
    between = gw.TranscryptionFactors.between(
        issuer.master_public_key, None, (factors.reshuffle, factors.rekey)
    )
    return gw.transcrypt(ciphertext, between, rerandomise_output=True)


def expected_pseudonym(issuer: gw.KeyIssuer, bsn: str, oin: str) -> str:
    """``s_R * M`` by the gateway's math, base64url without padding."""
    reshuffle = issuer.factors("pseudonym:" + oin).reshuffle
    element = gw_group.mul(reshuffle, gw.bsn_element(Bsn(bsn)))
    return base64.urlsafe_b64encode(element).rstrip(b"=").decode("ascii")


# -- the BSN element and the polymorphic subject ---------------------------------------------


@pytest.mark.parametrize("bsn", [BSN, *generate_valid_bsns(5, seed=7)])
def test_bsn_element_is_the_gateways(bsn):
    assert bsn_element(bsn) == gw.bsn_element(Bsn(bsn))


def test_polymorphic_subject_verifies_with_the_gateway(issuer, public, school_share):
    subject = polymorphic_subject(BSN, SCHOOL, public, school_share.link_secret)

    assert set(subject) == {"polymorphic"} and len(subject["polymorphic"]) == 344
    ciphertext, tag, proof = split_polymorphic(subject)
    assert ciphertext.y == issuer.master_public_key
    assert tag == gw.link_tag(gw.bsn_element(Bsn(BSN)), school_share.link_secret)
    gw.verify_link(ciphertext, issuer.link_public_key, tag, proof, SCHOOL.encode("ascii"))
    # what the master key decrypts to is the BSN's element
    master = issuer.secrets()["master"]
    assert gw.decrypt(ciphertext, master) == gw.bsn_element(Bsn(BSN))


def test_the_link_proof_is_bound_to_the_senders_oin(issuer, public, school_share):
    ciphertext, tag, proof = split_polymorphic(
        polymorphic_subject(BSN, SCHOOL, public, school_share.link_secret)
    )
    with pytest.raises(gw.ProofError):
        gw.verify_link(ciphertext, issuer.link_public_key, tag, proof, GGD.encode("ascii"))


def test_each_subject_is_a_fresh_encryption_with_the_same_tag(public, school_share):
    first = polymorphic_subject(BSN, SCHOOL, public, school_share.link_secret)
    second = polymorphic_subject(BSN, SCHOOL, public, school_share.link_secret)
    assert first != second
    assert split_polymorphic(first)[1] == split_polymorphic(second)[1]


def test_a_link_secret_of_other_keys_is_refused(public):
    with pytest.raises(KeyShareError):
        polymorphic_subject(BSN, SCHOOL, public, client_group.random_scalar())


def test_an_invalid_oin_is_refused(public, school_share):
    with pytest.raises(ValueError, match="OIN"):
        polymorphic_subject(BSN, "1234", public, school_share.link_secret)


# -- transcryption and decryption ------------------------------------------------------------


def test_a_transcrypted_subject_decrypts_to_the_recipients_pseudonym(
    issuer, public, school_share, ggd_share
):
    subject = polymorphic_subject(BSN, SCHOOL, public, school_share.link_secret)
    delivered = to_domain(issuer, split_polymorphic(subject)[0], GGD)

    pseudonym = decrypt_pseudonym(delivered.to_base64(), ggd_share)

    assert pseudonym == expected_pseudonym(issuer, BSN, GGD)
    assert len(pseudonym) == 43 and "=" not in pseudonym


def test_the_pseudonym_is_stable_and_differs_per_organisation(
    issuer, public, school_share, ggd_share
):
    def pseudonym_at(oin: str, share: KeyShare) -> str:
        subject = polymorphic_subject(BSN, SCHOOL, public, school_share.link_secret)
        delivered = to_domain(issuer, split_polymorphic(subject)[0], oin)
        return decrypt_pseudonym(delivered.to_base64(), share)

    assert pseudonym_at(GGD, ggd_share) == pseudonym_at(GGD, ggd_share)
    assert pseudonym_at(GGD, ggd_share) != pseudonym_at(SCHOOL, school_share)


def test_a_ciphertext_for_another_organisation_is_refused(issuer, public, school_share):
    subject = polymorphic_subject(BSN, SCHOOL, public, school_share.link_secret)
    delivered = to_domain(issuer, split_polymorphic(subject)[0], GGD)

    with pytest.raises(WrongKeyError, match="not encrypted for this organisation"):
        decrypt_pseudonym(delivered.to_base64(), school_share)


def test_a_share_of_another_issuer_is_refused(issuer, public, school_share):
    other = KeyShare.from_json(share_json(gw.KeyIssuer.generate(), GGD))
    subject = polymorphic_subject(BSN, SCHOOL, public, school_share.link_secret)
    delivered = to_domain(issuer, split_polymorphic(subject)[0], GGD)

    with pytest.raises(WrongKeyError):
        decrypt_pseudonym(delivered.to_base64(), other)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda text: text.rstrip("="),  # no padding
        lambda text: text[:40] + "\n" + text[40:],  # a line break
        lambda text: base64.urlsafe_b64encode(base64.b64decode(text)).decode(),  # url alphabet
        lambda text: text[:-4],  # too short
        lambda text: b64(bytes(32) + base64.b64decode(text)[32:]),  # identity as b
    ],
)
def test_only_the_canonical_ciphertext_spelling_is_accepted(issuer, ggd_share, mangle):
    delivered = gw.encrypt(gw.bsn_element(Bsn(BSN)), ggd_share.public_key).to_base64()
    assert decrypt_pseudonym(delivered, ggd_share)
    mangled = mangle(delivered)
    if mangled != delivered:
        with pytest.raises(EncodingError):
            decrypt_pseudonym(mangled, ggd_share)


# -- replying by pseudonym -------------------------------------------------------------------


def delivered_to_ggd(issuer, public, school_share) -> str:
    subject = polymorphic_subject(BSN, SCHOOL, public, school_share.link_secret)
    return to_domain(issuer, split_polymorphic(subject)[0], GGD).to_base64()


def test_a_reply_subject_verifies_with_the_gateway(issuer, public, school_share, ggd_share):
    received = delivered_to_ggd(issuer, public, school_share)
    pseudonym = decrypt_pseudonym(received, ggd_share)

    subject = reply_subject(pseudonym, EXCHANGE_ID, received, ggd_share, GGD)

    assert set(subject) == {"encrypted_pseudonym", "received_in"}
    assert subject["received_in"] == EXCHANGE_ID
    raw = base64.b64decode(subject["encrypted_pseudonym"], validate=True)
    assert len(raw) == 96 + 64 and len(subject["encrypted_pseudonym"]) == 216
    new, proof = gw.ElGamal.from_bytes(raw[:96]), raw[96:]
    old = gw.ElGamal.from_base64(received)
    assert new.y == ggd_share.public_key and new.b != old.b
    gw.verify_equal(new, old, proof, f"{GGD}|{EXCHANGE_ID}".encode("ascii"))
    # the new ciphertext holds the GGD's pseudonym
    element = gw.decrypt(new, ggd_share.secret_key)
    assert base64.urlsafe_b64encode(element).rstrip(b"=").decode() == pseudonym


def test_the_equality_proof_is_bound_to_sender_and_exchange(
    issuer, public, school_share, ggd_share
):
    received = delivered_to_ggd(issuer, public, school_share)
    subject = reply_subject(
        decrypt_pseudonym(received, ggd_share), EXCHANGE_ID, received, ggd_share, GGD
    )
    raw = base64.b64decode(subject["encrypted_pseudonym"])
    new, proof, old = gw.ElGamal.from_bytes(raw[:96]), raw[96:], gw.ElGamal.from_base64(received)
    for context in (f"{SCHOOL}|{EXCHANGE_ID}", f"{GGD}|another-exchange", GGD):
        with pytest.raises(gw.ProofError):
            gw.verify_equal(new, old, proof, context.encode("ascii"))


def test_the_gateway_transcrypts_a_reply_to_the_schools_pseudonym(
    issuer, public, school_share, ggd_share
):
    received = delivered_to_ggd(issuer, public, school_share)
    subject = reply_subject(
        decrypt_pseudonym(received, ggd_share), EXCHANGE_ID, received, ggd_share, GGD
    )
    ggd, school = (issuer.factors("pseudonym:" + oin) for oin in (GGD, SCHOOL))
    between = gw.TranscryptionFactors.between(
        ggd.public_key, (ggd.reshuffle, ggd.rekey), (school.reshuffle, school.rekey)
    )
    new = gw.ElGamal.from_bytes(base64.b64decode(subject["encrypted_pseudonym"])[:96])

    back = gw.transcrypt(new, between, rerandomise_output=True)

    assert decrypt_pseudonym(back.to_base64(), school_share) == expected_pseudonym(
        issuer, BSN, SCHOOL
    )


def test_a_reply_with_another_childs_pseudonym_is_refused(
    issuer, public, school_share, ggd_share
):
    received = delivered_to_ggd(issuer, public, school_share)
    other = expected_pseudonym(issuer, next(iter(generate_valid_bsns(1, seed=3))), GGD)

    with pytest.raises(PepError, match="not the one in the received exchange"):
        reply_subject(other, EXCHANGE_ID, received, ggd_share, GGD)


def test_a_reply_with_the_wrong_share_is_refused(issuer, public, school_share, ggd_share):
    received = delivered_to_ggd(issuer, public, school_share)
    pseudonym = decrypt_pseudonym(received, ggd_share)

    with pytest.raises(WrongKeyError):
        reply_subject(pseudonym, EXCHANGE_ID, received, school_share, SCHOOL)


@pytest.mark.parametrize("pseudonym", ["", "abc", "A" * 43 + "=", "!" * 43, "A" * 44])
def test_a_reply_needs_a_pseudonym(issuer, public, school_share, ggd_share, pseudonym):
    received = delivered_to_ggd(issuer, public, school_share)
    with pytest.raises(EncodingError):
        reply_subject(pseudonym, EXCHANGE_ID, received, ggd_share, GGD)


# -- BSNs never show ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bsn",
    [
        "123456789",  # elfproef fails
        "000000000",
        "000000012",  # weighted sum 0
        "12345678",
        "1234567820",
        "12345678a",
        "１２３４５６７８２",  # fullwidth digits
        " 123456782",
        123456782,
        None,
    ],
)
def test_an_invalid_bsn_is_refused_without_its_digits(public, school_share, bsn):
    with pytest.raises(InvalidBsnError) as refused:
        polymorphic_subject(bsn, SCHOOL, public, school_share.link_secret)

    assert isinstance(refused.value, ValueError)
    for text in (str(refused.value), repr(refused.value)):
        assert not any(character.isdigit() for character in text)


# -- the key share ---------------------------------------------------------------------------


def test_key_share_repr_hides_the_secrets(issuer, school_share):
    plain = share_json(issuer, SCHOOL)
    secrets = [
        plain["secret_key"], plain["link_secret"],
        school_share.secret_key.hex(), school_share.link_secret.hex(),
        repr(school_share.secret_key), repr(school_share.link_secret),
    ]
    for text in (repr(school_share), str(school_share), f"{school_share}", f"{[school_share]}"):
        assert "<hidden>" in text
        assert not any(secret in text for secret in secrets)


def test_key_share_checks_its_own_consistency(issuer):
    plain = share_json(issuer, SCHOOL)
    for name, value in [
        ("public_key", share_json(issuer, GGD)["public_key"]),
        ("link_public_key", plain["master_public_key"]),
        ("domain", "pseudonym:" + GGD),
        ("secret_key", b64(bytes(32))),
        ("secret_key", "not base64"),
    ]:
        with pytest.raises(KeyShareError):
            KeyShare.from_json({**plain, name: value})


def test_key_share_matches_only_its_own_public_keys(issuer, school_share):
    school_share.check_public_keys(PublicKeys.from_json(public_json(issuer)))
    with pytest.raises(KeyShareError, match="published public keys"):
        school_share.check_public_keys(PublicKeys.from_json(public_json(gw.KeyIssuer.generate())))


def registered_key(kid: str = "school-sis-1") -> ECKey:
    """A client key as registered for private_key_jwt: ``use: sig``, ``alg: ES256``."""
    return ECKey.generate_key("P-256", parameters={"kid": kid, "alg": "ES256", "use": "sig"})


def seal(plaintext: bytes, key: ECKey, alg: str = "ECDH-ES+A256KW") -> str:
    """What the gateway's key-share endpoint does: a compact JWE to the client's EC key."""
    public = {k: v for k, v in key.as_dict(private=False).items() if k not in ("use", "alg")}
    header = {"alg": alg, "enc": "A256GCM", "kid": key.kid, "cty": "application/json"}
    return jwe.encrypt_compact(header, plaintext, ECKey.import_key(public))


def test_key_share_jwe_round_trip(issuer, school_share):
    key = registered_key()
    token = seal(json.dumps(share_json(issuer, SCHOOL)).encode(), key)

    opened = open_key_share(token, key.as_dict(private=True))

    assert opened == school_share
    assert opened.secret_key == school_share.secret_key
    assert opened.link_secret == school_share.link_secret


def test_key_share_jwe_for_another_key_is_refused(issuer):
    token = seal(json.dumps(share_json(issuer, SCHOOL)).encode(), registered_key())
    with pytest.raises(KeyShareError, match="cannot be opened"):
        open_key_share(token, registered_key().as_dict(private=True))


def test_key_share_jwe_with_another_algorithm_is_refused(issuer):
    key = registered_key()
    token = seal(json.dumps(share_json(issuer, SCHOOL)).encode(), key, alg="ECDH-ES")
    with pytest.raises(KeyShareError):
        open_key_share(token, key.as_dict(private=True))


def test_key_share_needs_the_private_key(issuer):
    key = registered_key()
    token = seal(json.dumps(share_json(issuer, SCHOOL)).encode(), key)
    with pytest.raises(ValueError, match="private"):
        open_key_share(token, key.as_dict(private=False))


# -- the group helpers -----------------------------------------------------------------------


def test_group_refuses_identity_and_non_canonical_values():
    with pytest.raises(EncodingError):
        client_group.element(bytes(32))
    with pytest.raises(EncodingError):
        client_group.element(b"\xff" * 32)  # not canonical
    valid = client_group.mul_base(client_group.random_scalar())
    assert client_group.element(valid) == valid
    with pytest.raises(EncodingError):  # bit 255 set: libsodium 1.0.18 alone would accept it
        client_group.element(valid[:31] + bytes([valid[31] | 0x80]))
    with pytest.raises(EncodingError):
        client_group.scalar(bytes(32))
    with pytest.raises(EncodingError):
        client_group.scalar(client_group.ORDER.to_bytes(32, "little"))
    assert client_group.ORDER == gw_group.ORDER


def test_hash_to_scalar_is_the_gateways():
    parts = (b"label", b"context", os.urandom(96), b"")
    assert client_group.hash_to_scalar(*parts) == gw_group.hash_to_scalar(*parts)


# -- self-containment ------------------------------------------------------------------------


def test_the_library_imports_nothing_of_the_gateway(tmp_path):
    script = (
        "import sys, pkgutil, importlib, thuiszitterspact_client as c\n"
        "for m in pkgutil.iter_modules(c.__path__): importlib.import_module(c.__name__+'.'+m.name)\n"
        "bad = {'pseudonymise', 'gateway', 'schemas', 'consent', 'certs', 'flask'}\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(CLIENT_ROOT)},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == "[]"
