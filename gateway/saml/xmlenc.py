"""Encrypted assertions (XML Encryption 1.1), decrypted before any other check sees them.

Real federations encrypt the assertion for the SP (eHerkenning requires it): the IdP wraps a
random content key with the SP's public encryption key (RSA-OAEP) and encrypts the signed
``Assertion`` element with it (AES-CBC or AES-GCM). The gateway decrypts here, with the
``cryptography`` package, and puts the plaintext ``Assertion`` where the ``EncryptedAssertion``
was, byte for byte; the result then passes exactly the checks of a plaintext response
(:mod:`gateway.saml.hardening`, pysaml2's signature check, the provider's own checks), so the
whole attack corpus applies to encrypted responses too, and pysaml2 never sees encryption.

Algorithms are an allow-list: RSA PKCS#1 v1.5 key transport is refused (a decryption oracle,
Bleichenbacher); AES-CBC stays allowed because the federations use it, and every failure,
whatever its cause, is the same refusal (``saml_decrypt``) so that no padding oracle exists.
Several SP keys may be tried (a key rotation with overlap: both keys decrypt).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from xml.etree.ElementTree import Element

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import RefusedResponse

XENC = "{http://www.w3.org/2001/04/xmlenc#}"
XENC11 = "{http://www.w3.org/2009/xmlenc11#}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
SAML = "{urn:oasis:names:tc:SAML:2.0:assertion}"

RSA_OAEP_MGF1P = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
RSA_OAEP = "http://www.w3.org/2009/xmlenc11#rsa-oaep"
CBC = {
    "http://www.w3.org/2001/04/xmlenc#aes128-cbc": 16,
    "http://www.w3.org/2001/04/xmlenc#aes192-cbc": 24,
    "http://www.w3.org/2001/04/xmlenc#aes256-cbc": 32,
}
GCM = {
    "http://www.w3.org/2009/xmlenc11#aes128-gcm": 16,
    "http://www.w3.org/2009/xmlenc11#aes192-gcm": 24,
    "http://www.w3.org/2009/xmlenc11#aes256-gcm": 32,
}
DIGESTS = {
    None: hashes.SHA1,
    "http://www.w3.org/2000/09/xmldsig#sha1": hashes.SHA1,
    "http://www.w3.org/2001/04/xmlenc#sha256": hashes.SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#sha384": hashes.SHA384,
    "http://www.w3.org/2001/04/xmlenc#sha512": hashes.SHA512,
}
MGFS = {
    None: hashes.SHA1,
    "http://www.w3.org/2009/xmlenc11#mgf1sha1": hashes.SHA1,
    "http://www.w3.org/2009/xmlenc11#mgf1sha256": hashes.SHA256,
    "http://www.w3.org/2009/xmlenc11#mgf1sha384": hashes.SHA384,
    "http://www.w3.org/2009/xmlenc11#mgf1sha512": hashes.SHA512,
}
ELEMENT_TYPE = "http://www.w3.org/2001/04/xmlenc#Element"
_OPEN = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?EncryptedAssertion[\s>/]")
_CLOSE = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?EncryptedAssertion\s*>")


def _refuse() -> RefusedResponse:
    return RefusedResponse("saml_decrypt")


def load_private_keys(pem_documents: Iterable[bytes]) -> list[rsa.RSAPrivateKey]:
    keys = []
    for pem in pem_documents:
        key = serialization.load_pem_private_key(pem, password=None)
        if isinstance(key, rsa.RSAPrivateKey):
            keys.append(key)
    return keys


def _b64(element: Element | None) -> bytes:
    if element is None or not (element.text or "").strip():
        raise _refuse()
    try:
        return base64.b64decode("".join((element.text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        raise _refuse() from None


def _unwrap(encrypted_key: Element, keys: list[rsa.RSAPrivateKey]) -> bytes:
    method = encrypted_key.find(f"{XENC}EncryptionMethod")
    algorithm = method.get("Algorithm") if method is not None else None
    if algorithm not in (RSA_OAEP_MGF1P, RSA_OAEP):
        raise _refuse()
    digest_node = method.find(f"{DS}DigestMethod")
    digest = DIGESTS.get(digest_node.get("Algorithm") if digest_node is not None else None)
    mgf_node = method.find(f"{XENC11}MGF")
    mgf = MGFS.get(mgf_node.get("Algorithm") if mgf_node is not None else None)
    if digest is None or mgf is None or method.find(f"{XENC}OAEPparams") is not None:
        raise _refuse()
    if algorithm == RSA_OAEP_MGF1P:
        mgf = hashes.SHA1  # the 2001 algorithm fixes MGF1 with SHA-1
    wrapped = _b64(encrypted_key.find(f"{XENC}CipherData/{XENC}CipherValue"))
    for key in keys:
        try:
            return key.decrypt(
                wrapped, padding.OAEP(mgf=padding.MGF1(mgf()), algorithm=digest(), label=None)
            )
        except ValueError:
            continue
    raise _refuse()


def _content_key(encrypted_assertion: Element, data: Element, keys) -> bytes:
    candidates = data.findall(f"{DS}KeyInfo/{XENC}EncryptedKey")
    candidates += encrypted_assertion.findall(f"{XENC}EncryptedKey")
    if not candidates:
        raise _refuse()
    for encrypted_key in candidates:
        try:
            return _unwrap(encrypted_key, keys)
        except RefusedResponse:
            continue
    raise _refuse()


def decrypt_assertion(encrypted_assertion: Element, keys: list[rsa.RSAPrivateKey]) -> bytes:
    """The plaintext ``Assertion`` element (bytes) of a parsed ``EncryptedAssertion``."""
    data = encrypted_assertion.findall(f"{XENC}EncryptedData")
    if len(data) != 1 or data[0].get("Type") not in (None, ELEMENT_TYPE):
        raise _refuse()
    method = data[0].find(f"{XENC}EncryptionMethod")
    algorithm = method.get("Algorithm") if method is not None else None
    if algorithm not in CBC and algorithm not in GCM:
        raise _refuse()
    content_key = _content_key(encrypted_assertion, data[0], keys)
    cipher_text = _b64(data[0].find(f"{XENC}CipherData/{XENC}CipherValue"))
    try:
        if algorithm in GCM:
            if len(content_key) != GCM[algorithm] or len(cipher_text) < 12 + 16:
                raise _refuse()
            plain = AESGCM(content_key).decrypt(cipher_text[:12], cipher_text[12:], None)
        else:
            if len(content_key) != CBC[algorithm] or len(cipher_text) < 32:
                raise _refuse()
            if len(cipher_text) % 16:
                raise _refuse()
            decryptor = Cipher(algorithms.AES(content_key), modes.CBC(cipher_text[:16])).decryptor()
            padded = decryptor.update(cipher_text[16:]) + decryptor.finalize()
            pad = padded[-1]
            if not 1 <= pad <= 16:
                raise _refuse()
            plain = padded[:-pad]
    except RefusedResponse:
        raise
    except Exception:  # noqa: BLE001 - any cryptographic failure is the same refusal
        raise _refuse() from None
    text = plain.strip()
    if not re.match(rb"<(?:[A-Za-z_][\w.-]*:)?Assertion[\s>/]", text):
        raise _refuse()
    return text


def splice(xml: bytes, plaintext_assertion: bytes) -> bytes:
    """``xml`` with its one ``EncryptedAssertion`` element replaced by ``plaintext_assertion``.

    A textual replacement keeps every other byte (and so every other signature) as it was;
    the result is parsed and checked again from scratch by the caller.
    """
    opens = list(_OPEN.finditer(xml))
    closes = list(_CLOSE.finditer(xml))
    if len(opens) != 1 or len(closes) != 1 or closes[0].start() < opens[0].start():
        raise _refuse()
    return xml[: opens[0].start()] + plaintext_assertion + xml[closes[0].end() :]
