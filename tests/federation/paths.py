"""The encrypted and artifact paths for tests that build their own SAML responses.

The SAML attack corpus (``tests/security/test_saml_attacks.py``) makes each attack as a
response of the pysaml2 test IdP; these helpers deliver the same response as an IdP
configured to encrypt would (the assertion encrypted for the SP: RSA-OAEP key transport,
AES-128-CBC as SimpleSAMLphp does, or AES-256-GCM), and as an artifact IdP would (the response,
its assertion encrypted, inside an ``ArtifactResponse`` signed by the IdP's key, answered over
the back channel to whatever ``ArtifactResolve`` the gateway sends). The encryption is done
here with ``cryptography`` from the XML Encryption specification, not with the gateway's code.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import uuid
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric import padding as asymmetric
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from defusedxml.ElementTree import fromstring

from tests.federation.simplesamlphp import xmlsec_sign

SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP_NS = "urn:oasis:names:tc:SAML:2.0:protocol"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
XENC_NS = "http://www.w3.org/2001/04/xmlenc#"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
AES128_CBC = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"
AES256_GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
RSA_OAEP_MGF1P = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
RSA_1_5 = "http://www.w3.org/2001/04/xmlenc#rsa-1_5"
_OPEN = re.compile(r"<(?P<prefix>[A-Za-z_][\w.-]*:)?Assertion[\s>]")


def _declaration_free(xml: str) -> str:
    return re.sub(r"^<\?xml[^>]*\?>\s*", "", xml)


def encrypted_data(
    plaintext: bytes,
    cert_pem: bytes,
    algorithm: str = AES128_CBC,
    key_transport: str = RSA_OAEP_MGF1P,
) -> str:
    """An ``xenc:EncryptedData`` (Type Element) of ``plaintext`` for ``cert_pem``'s key."""
    public_key = x509.load_pem_x509_certificate(cert_pem).public_key()
    if algorithm == AES256_GCM:
        key = os.urandom(32)
        nonce = os.urandom(12)
        cipher_text = nonce + AESGCM(key).encrypt(nonce, plaintext, None)
    else:
        key, iv = os.urandom(16), os.urandom(16)
        padder = padding.PKCS7(128).padder()
        padded = padder.update(plaintext) + padder.finalize()
        encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        cipher_text = iv + encryptor.update(padded) + encryptor.finalize()
    if key_transport == RSA_1_5:
        wrapped = public_key.encrypt(key, asymmetric.PKCS1v15())
        digest = ""
    else:
        wrapped = public_key.encrypt(
            key,
            asymmetric.OAEP(
                mgf=asymmetric.MGF1(hashes.SHA1()),
                algorithm=hashes.SHA1(),  # noqa: S303
                label=None,
            ),
        )
        digest = f'<ds:DigestMethod Algorithm="{DS_NS}sha1"/>'
    return (
        f'<xenc:EncryptedData xmlns:xenc="{XENC_NS}" Type="{XENC_NS}Element">'
        f'<xenc:EncryptionMethod Algorithm="{algorithm}"/>'
        f'<ds:KeyInfo xmlns:ds="{DS_NS}"><xenc:EncryptedKey>'
        f'<xenc:EncryptionMethod Algorithm="{key_transport}">{digest}</xenc:EncryptionMethod>'
        f"<xenc:CipherData><xenc:CipherValue>{base64.b64encode(wrapped).decode()}"
        "</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>"
        f"<xenc:CipherData><xenc:CipherValue>{base64.b64encode(cipher_text).decode()}"
        "</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData>"
    )


def _first_assertion_span(xml: str) -> tuple[int, int, str] | None:
    """(start, end, prefix) of the first ``Assertion`` element, nested ones included."""
    first = _OPEN.search(xml)
    if first is None:
        return None
    prefix = first.group("prefix") or ""
    tag = re.compile(rf"<(/?){re.escape(prefix)}Assertion(?=[\s>/])([^>]*?)(/?)>")
    depth = 0
    for match in tag.finditer(xml, first.start()):
        closing, self_closing = match.group(1), match.group(3)
        if self_closing:
            continue
        depth += -1 if closing else 1
        if depth == 0:
            return first.start(), match.end(), prefix
    return None


def encrypt_assertion(xml: str, cert_pem: bytes, **options) -> str:
    """``xml`` with its first ``Assertion`` element replaced by an ``EncryptedAssertion`` for
    the SP (an IdP configured to encrypt). A document without one (or with a DTD, which no
    IdP sends and the gateway refuses before decrypting) is returned unchanged."""
    xml = _declaration_free(xml)
    if "<!DOCTYPE" in xml:
        return xml
    span = _first_assertion_span(xml)
    if span is None:
        return xml
    start, end, prefix = span
    plaintext = xml[start:end].encode("utf-8")
    wrapper = (
        f'<{prefix}EncryptedAssertion xmlns:{prefix[:-1] or "saml"}="{SAML_NS}">'
        if prefix
        else f'<EncryptedAssertion xmlns="{SAML_NS}">'
    )
    closing = f"</{prefix}EncryptedAssertion>"
    return (
        xml[:start] + wrapper + encrypted_data(plaintext, cert_pem, **options) + closing + xml[end:]
    )


def artifact(entity_id: str, index: int = 0) -> str:
    """A SAML 2.0 type 4 artifact of the IdP ``entity_id``."""
    raw = b"\x00\x04" + index.to_bytes(2, "big") + hashlib.sha1(entity_id.encode()).digest()  # noqa: S324
    return base64.b64encode(raw + os.urandom(20)).decode("ascii")


def artifact_response(
    response_xml: str, in_response_to: str, issuer: str, key_pem: bytes, cert_pem: bytes
) -> bytes:
    """A SOAP envelope with an ``ArtifactResponse`` carrying ``response_xml``, signed by the
    IdP. A response with a DTD cannot be embedded: it is sent as the envelope's DTD (the
    gateway must refuse it as it parses the answer)."""
    response_xml = _declaration_free(response_xml)
    doctype = ""
    if response_xml.startswith("<!DOCTYPE"):
        end = response_xml.index("]>") + 2
        doctype, response_xml = response_xml[:end], response_xml[end:]
    message_id = f"_{uuid.uuid4().hex}"
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    template = (
        f'<samlp:ArtifactResponse xmlns:samlp="{SAMLP_NS}" xmlns:saml="{SAML_NS}" '
        f'ID="{message_id}" Version="2.0" IssueInstant="{now}" InResponseTo="{in_response_to}">'
        f"<saml:Issuer>{issuer}</saml:Issuer>"
        f'<ds:Signature xmlns:ds="{DS_NS}"><ds:SignedInfo>'
        '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
        '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
        f'<ds:Reference URI="#{message_id}"><ds:Transforms>'
        '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
        '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>'
        '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
        "<ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/>"
        "<ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>"
        f'<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>'
        f"</samlp:Status>{{RESPONSE}}</samlp:ArtifactResponse>"
    )
    if doctype:
        body = template.replace("{RESPONSE}", response_xml)
        return (
            doctype + f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_NS}"><SOAP-ENV:Body>{body}'
            "</SOAP-ENV:Body></SOAP-ENV:Envelope>"
        ).encode()
    signed = xmlsec_sign(
        template.replace("{RESPONSE}", response_xml),
        key_pem,
        cert_pem,
        f"{SAMLP_NS}:ArtifactResponse",
    ).decode()
    signed = _declaration_free(signed)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_NS}">'
        f"<SOAP-ENV:Body>{signed}</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()


def resolve_id(soap_body: bytes) -> str:
    """The ID of the ``ArtifactResolve`` in the gateway's SOAP request."""
    root = fromstring(soap_body, forbid_dtd=True)
    found = root.find(f".//{{{SAMLP_NS}}}ArtifactResolve")
    assert found is not None, soap_body[:300]
    return found.get("ID")


class BackChannel:
    """A stand-in for an artifact IdP's resolution service (``artifact_transport``): answers
    the next ``ArtifactResolve`` with ``pending`` wrapped and signed, then forgets it."""

    def __init__(self, issuer: str, key_pem: bytes, cert_pem: bytes) -> None:
        self.issuer = issuer
        self.key_pem = key_pem
        self.cert_pem = cert_pem
        self.pending: str | None = None
        self.requests: list[bytes] = []

    def __call__(self, url: str, body: bytes, tls, verify) -> bytes:
        self.requests.append(body)
        response, self.pending = self.pending, None
        if response is None:
            raise AssertionError("the gateway resolved an artifact nobody issued")
        return artifact_response(
            response, resolve_id(body), self.issuer, self.key_pem, self.cert_pem
        )
