"""Checks on the raw SAML response before pysaml2 sees it (API.md section 10).

pysaml2 verifies signatures and conditions, but (see the issue's pitfalls) it has no
algorithm allow-list, accepts a missing ``Destination`` and relies on ElementTree, which drops
XML comments silently. So each response is first parsed here with defusedxml (no DTD, no
entity, no external reference) keeping comments and processing instructions, and refused when:

- it is not base64, too large, not well-formed, or has a DTD/entity (XXE, entity expansion);
- it holds a comment or processing instruction (NameID comment injection relies on them, and
  no IdP needs them);
- it has IDs used twice, not exactly one ``Assertion`` (as a direct child of the Response),
  an ``EncryptedAssertion`` from an IdP not configured to encrypt, or a ``Signature`` anywhere
  but as the direct child of the element it signs, referencing exactly that element's ID,
  without ``ds:Object``: the shapes that XML signature wrapping (XSW1-XSW8) needs are all
  impossible;
- the assertion is not signed, or any signature uses an algorithm outside the allow-list
  (RSA or ECDSA with SHA-256 or stronger; SHA-1 refused);
- ``Destination`` is missing or is not our ACS URL, or ``InResponseTo`` is missing (an
  unsolicited response).

For an IdP configured to encrypt (issue 21) the response must carry exactly one
``EncryptedAssertion`` (a plaintext assertion is refused) as a direct child and no plaintext
one; it is decrypted (:mod:`gateway.saml.xmlenc`) into the document, which then passes every
check above from scratch.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from xml.etree.ElementTree import Comment, Element, ParseError, ProcessingInstruction, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from . import xmlenc
from .errors import MalformedMessage, RefusedResponse

SAMLP = "{urn:oasis:names:tc:SAML:2.0:protocol}"
SAML = "{urn:oasis:names:tc:SAML:2.0:assertion}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
MAX_RESPONSE_BYTES = 200 * 1024

SIGNATURE_ALGORITHMS = frozenset(
    {
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
    }
)
DIGEST_ALGORITHMS = frozenset(
    {
        "http://www.w3.org/2001/04/xmlenc#sha256",
        "http://www.w3.org/2001/04/xmldsig-more#sha384",
        "http://www.w3.org/2001/04/xmlenc#sha512",
    }
)
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
TRANSFORMS = frozenset({ENVELOPED, EXC_C14N})


@dataclass(frozen=True)
class ResponseFacts:
    """What the later checks need from a response that passed these ones."""

    xml: bytes
    response_id: str
    in_response_to: str
    assertion_id: str


def decode(saml_response: str) -> bytes:
    """The XML of a base64 ``SAMLResponse`` form field (HTTP-POST binding)."""
    if not saml_response or len(saml_response) > MAX_RESPONSE_BYTES * 4 // 3 + 4:
        raise MalformedMessage("saml_size")
    try:
        return base64.b64decode("".join(saml_response.split()), validate=True)
    except (binascii.Error, ValueError):
        raise MalformedMessage("saml_base64") from None


def parse(xml: bytes) -> Element:
    """Parse with defusedxml, keeping comments and processing instructions as nodes."""
    parser = DefusedXMLParser(
        target=TreeBuilder(insert_comments=True, insert_pis=True),
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )
    try:
        parser.feed(xml)
        return parser.close()
    except DefusedXmlException:
        raise MalformedMessage("saml_dtd_or_entity") from None
    except (ParseError, ValueError):
        raise MalformedMessage("saml_not_well_formed") from None


def _parents(root: Element) -> dict[int, Element]:
    return {id(child): parent for parent in root.iter() for child in parent}


def check_signature(signature: Element, parent: Element) -> None:
    """One enveloped signature over exactly ``parent``, with allowed algorithms only."""
    signed_info = signature.find(f"{DS}SignedInfo")
    if signed_info is None or signature.find(f"{DS}Object") is not None:
        raise RefusedResponse("saml_signature_shape")
    references = signed_info.findall(f"{DS}Reference")
    parent_id = parent.get("ID")
    if len(references) != 1 or not parent_id or references[0].get("URI") != f"#{parent_id}":
        raise RefusedResponse("saml_signature_reference")
    c14n = signed_info.find(f"{DS}CanonicalizationMethod")
    method = signed_info.find(f"{DS}SignatureMethod")
    digest = references[0].find(f"{DS}DigestMethod")
    transforms = references[0].findall(f"{DS}Transforms/{DS}Transform")
    if c14n is None or c14n.get("Algorithm") != EXC_C14N:
        raise RefusedResponse("saml_algorithm")
    if method is None or method.get("Algorithm") not in SIGNATURE_ALGORITHMS:
        raise RefusedResponse("saml_algorithm")
    if digest is None or digest.get("Algorithm") not in DIGEST_ALGORITHMS:
        raise RefusedResponse("saml_algorithm")
    algorithms = [t.get("Algorithm") for t in transforms]
    if ENVELOPED not in algorithms or not set(algorithms) <= TRANSFORMS or len(algorithms) > 2:
        raise RefusedResponse("saml_algorithm")


def check_structure(root: Element, acs_url: str) -> ResponseFacts:
    """The structural rules of the module docstring, on a parsed response."""
    nodes = list(root.iter())
    if any(node.tag in (Comment, ProcessingInstruction) for node in nodes):
        raise MalformedMessage("saml_comment")
    if root.tag != f"{SAMLP}Response":
        raise MalformedMessage("saml_not_a_response")
    ids = [node.get("ID") for node in nodes if node.get("ID") is not None]
    if len(ids) != len(set(ids)):
        raise RefusedResponse("saml_duplicate_id")
    if root.find(f".//{SAML}EncryptedAssertion") is not None:
        raise RefusedResponse("saml_encrypted_assertion")
    assertions = [node for node in nodes if node.tag == f"{SAML}Assertion"]
    if len(assertions) != 1 or assertions[0] not in list(root):
        raise RefusedResponse("saml_assertion_count")
    assertion = assertions[0]
    parents = _parents(root)
    signed = set()
    for signature in (node for node in nodes if node.tag == f"{DS}Signature"):
        parent = parents.get(id(signature))
        if parent is None or parent not in (root, assertion) or id(parent) in signed:
            raise RefusedResponse("saml_signature_placement")
        check_signature(signature, parent)
        signed.add(id(parent))
    if id(assertion) not in signed:
        raise RefusedResponse("saml_assertion_unsigned")
    if root.get("Destination") != acs_url:
        raise RefusedResponse("saml_destination")
    in_response_to = root.get("InResponseTo")
    if not in_response_to:
        raise RefusedResponse("saml_unsolicited")
    return ResponseFacts(b"", root.get("ID") or "", in_response_to, assertion.get("ID") or "")


def decrypted(xml: bytes, root: Element, keys) -> bytes:
    """The response with its one ``EncryptedAssertion`` decrypted in place (see above)."""
    if any(node.tag in (Comment, ProcessingInstruction) for node in root.iter()):
        raise MalformedMessage("saml_comment")
    if root.tag != f"{SAMLP}Response":
        raise MalformedMessage("saml_not_a_response")
    encrypted = [node for node in root.iter() if node.tag == f"{SAML}EncryptedAssertion"]
    if not encrypted:
        raise RefusedResponse("saml_not_encrypted")
    plain = [node for node in root.iter() if node.tag == f"{SAML}Assertion"]
    if len(encrypted) != 1 or encrypted[0] not in list(root) or plain:
        raise RefusedResponse("saml_assertion_count")
    result = xmlenc.splice(xml, xmlenc.decrypt_assertion(encrypted[0], keys))
    if len(result) > MAX_RESPONSE_BYTES:
        raise MalformedMessage("saml_size")
    return result


def check_response(xml: bytes, acs_url: str, *, decrypt_with=None) -> ResponseFacts:
    """Parse and check a response's XML; with ``decrypt_with`` (the SP's private keys) the
    assertion must come encrypted and is decrypted first. Raises a ``SamlError``."""
    if len(xml) > MAX_RESPONSE_BYTES:
        raise MalformedMessage("saml_size")
    root = parse(xml)
    if decrypt_with is not None:
        xml = decrypted(xml, root, decrypt_with)
        root = parse(xml)
    facts = check_structure(root, acs_url)
    return ResponseFacts(xml, facts.response_id, facts.in_response_to, facts.assertion_id)


def inspect_response(saml_response: str, acs_url: str, *, decrypt_with=None) -> ResponseFacts:
    """Decode, parse and check a ``SAMLResponse`` form field; raises a ``SamlError``."""
    return check_response(decode(saml_response), acs_url, decrypt_with=decrypt_with)
