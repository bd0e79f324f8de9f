"""Encrypted assertions: decrypted with any of the SP's keys (a rotation overlaps), by an
allow-list of algorithms, every failure the same refusal (issue 21)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from defusedxml.ElementTree import fromstring

from gateway.saml.credentials import self_signed
from gateway.saml.errors import RefusedResponse
from gateway.saml.xmlenc import decrypt_assertion, load_private_keys, splice
from tests.federation.paths import AES128_CBC, AES256_GCM, RSA_1_5, encrypted_data

SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
ASSERTION = (
    f'<saml:Assertion xmlns:saml="{SAML_NS}" ID="id-1"><saml:Issuer>idp</saml:Issuer>'
    "<!-- kept: the hardening refuses it later --></saml:Assertion>"
).encode()


@pytest.fixture(scope="module")
def old_key():
    return self_signed("old encryption", bits=2048)


@pytest.fixture(scope="module")
def new_key():
    return self_signed("new encryption", bits=2048)


def wrapped(cert: bytes, **options):
    document = (
        f'<saml:EncryptedAssertion xmlns:saml="{SAML_NS}">'
        f"{encrypted_data(ASSERTION, cert, **options)}</saml:EncryptedAssertion>"
    )
    return fromstring(document.encode())


def keys(*pairs):
    return load_private_keys(key for key, _ in pairs)


@pytest.mark.parametrize("algorithm", [AES128_CBC, AES256_GCM])
def test_an_assertion_encrypted_for_the_sp_decrypts_to_its_exact_bytes(old_key, algorithm):
    element = wrapped(old_key[1], algorithm=algorithm)
    assert decrypt_assertion(element, keys(old_key)) == ASSERTION


def test_during_a_rotation_both_keys_decrypt(old_key, new_key):
    both = keys(new_key, old_key)
    assert decrypt_assertion(wrapped(old_key[1]), both) == ASSERTION
    assert decrypt_assertion(wrapped(new_key[1]), both) == ASSERTION


def test_an_assertion_for_another_key_is_refused(old_key, new_key):
    with pytest.raises(RefusedResponse) as refused:
        decrypt_assertion(wrapped(new_key[1]), keys(old_key))
    assert refused.value.code == "saml_decrypt"


def test_rsa_pkcs1_v1_5_key_transport_is_refused(old_key):
    """PKCS#1 v1.5 is a decryption oracle (Bleichenbacher): refused even with the right key."""
    with pytest.raises(RefusedResponse) as refused:
        decrypt_assertion(wrapped(old_key[1], key_transport=RSA_1_5), keys(old_key))
    assert refused.value.code == "saml_decrypt"


def test_a_changed_cipher_text_is_the_same_refusal(old_key):
    element = wrapped(old_key[1], algorithm=AES256_GCM)
    value = element.find(".//{http://www.w3.org/2001/04/xmlenc#}EncryptedData/"
                         "{http://www.w3.org/2001/04/xmlenc#}CipherData/"
                         "{http://www.w3.org/2001/04/xmlenc#}CipherValue")
    value.text = ("B" if value.text[0] != "B" else "C") + value.text[1:]
    with pytest.raises(RefusedResponse) as refused:
        decrypt_assertion(element, keys(old_key))
    assert refused.value.code == "saml_decrypt"


def test_splice_puts_the_assertion_where_the_encrypted_one_was():
    response = (
        b'<samlp:Response xmlns:samlp="p"><saml:Issuer>i</saml:Issuer>'
        b'<saml:EncryptedAssertion xmlns:saml="a"><x/></saml:EncryptedAssertion></samlp:Response>'
    )
    assert splice(response, b"<saml:Assertion/>") == (
        b'<samlp:Response xmlns:samlp="p"><saml:Issuer>i</saml:Issuer>'
        b"<saml:Assertion/></samlp:Response>"
    )
    with pytest.raises(RefusedResponse):
        splice(response.replace(b"</samlp:Response>", b"<saml:EncryptedAssertion/></samlp:Response>"), b"<a/>")


def test_the_private_keys_load_from_pem(old_key):
    loaded = load_private_keys([old_key[0]])
    assert loaded[0].private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ) == old_key[0]
