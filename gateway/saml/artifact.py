"""HTTP-Artifact binding: the browser brings only ``SAMLart``; the SP fetches the response.

eHerkenning brokers answer this way, so that the assertion never passes through the browser:
the IdP redirects to ``/saml/acs/artifact?SAMLart=...``, and the gateway sends a signed
``ArtifactResolve`` over SOAP to the IdP's ``ArtifactResolutionService`` (from its metadata)
and gets the ``Response`` back in a signed ``ArtifactResponse``.

- The artifact must be SAML 2.0 type 4 whose source ID is the SHA-1 of the entity ID of a
  registered artifact IdP; its endpoint index picks the IdP's resolution service.
- The back channel is mutually authenticated where the endpoint is https: the gateway presents
  ``GATEWAY_KEYS_DIR/saml/backchannel.crt`` (+ ``.key``) as TLS client certificate and checks
  the IdP's server certificate against ``backchannel-ca.pem`` in the same folder when present
  (else the system's CAs). Over http (development, the test harness) the signatures alone
  authenticate the two sides.
- The ``ArtifactResponse`` is parsed with defusedxml and must be signed (enveloped, allowed
  algorithms, over its own ID) by a signing key of the IdP's metadata (xmlsec1), answer our
  ``ArtifactResolve`` (``InResponseTo``), come from the IdP (``Issuer``), say ``Success`` and
  hold exactly one ``Response``. That ``Response`` then goes through every check of a posted
  one (:meth:`ServiceProvider._finish`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import subprocess
import tempfile
from pathlib import Path

import requests
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from defusedxml.minidom import parseString as parse_dom
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from .errors import MalformedMessage, RefusedResponse
from .hardening import check_signature

SAMLP_NS = "urn:oasis:names:tc:SAML:2.0:protocol"
SAMLP = f"{{{SAMLP_NS}}}"
SAML = "{urn:oasis:names:tc:SAML:2.0:assertion}"
MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP = f"{{{SOAP_NS}}}"
BINDING_SOAP = "urn:oasis:names:tc:SAML:2.0:bindings:SOAP"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
TYPE_CODE = b"\x00\x04"
MAX_ANSWER_BYTES = 400 * 1024
TIMEOUT = 10
XMLSEC = "/usr/bin/xmlsec1"


def source_id(entity_id: str) -> bytes:
    return hashlib.sha1(entity_id.encode("utf-8")).digest()  # noqa: S324 - SAML's definition


def parse_artifact(saml_art: str | None) -> tuple[int, bytes]:
    """(endpoint index, source ID) of a type 4 artifact; refuses anything else."""
    if not saml_art or len(saml_art) > 200:
        raise RefusedResponse("saml_artifact")
    try:
        raw = base64.b64decode(saml_art, validate=True)
    except (binascii.Error, ValueError):
        raise RefusedResponse("saml_artifact") from None
    if len(raw) != 44 or raw[:2] != TYPE_CODE:
        raise RefusedResponse("saml_artifact")
    return int.from_bytes(raw[2:4], "big"), raw[4:24]


def resolution_service(metadata_xml: str, index: int) -> str:
    root = fromstring(metadata_xml.encode("utf-8"), forbid_dtd=True)
    services = root.findall(f"{MD}IDPSSODescriptor/{MD}ArtifactResolutionService")
    for service in services:
        if service.get("Binding") == BINDING_SOAP and service.get("index") == str(index):
            return service.get("Location") or ""
    raise RefusedResponse("saml_artifact_endpoint")


def signing_certificates(metadata_xml: str) -> list[str]:
    """The IdP's signing certificates (PEM) from its metadata."""
    root = fromstring(metadata_xml.encode("utf-8"), forbid_dtd=True)
    pems = []
    for key in root.findall(f"{MD}IDPSSODescriptor/{MD}KeyDescriptor"):
        if key.get("use") not in (None, "signing"):
            continue
        for cert in key.findall(f".//{DS}X509Certificate"):
            body = "".join((cert.text or "").split())
            lines = [body[i : i + 64] for i in range(0, len(body), 64)]
            pems.append(
                "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"
            )
    return pems


def xmlsec_verify(document: bytes, cert_pem: str, id_node: str) -> bool:
    with tempfile.TemporaryDirectory(prefix="saml-art-") as work:
        cert = Path(work) / "idp.crt"
        cert.write_text(cert_pem)
        source = Path(work) / "answer.xml"
        source.write_bytes(document)
        done = subprocess.run(  # noqa: S603 - fixed binary, our own temporary files
            [
                XMLSEC,
                "--verify",
                "--pubkey-cert-pem",
                str(cert),
                "--enabled-key-data",
                "key-name",
                "--id-attr:ID",
                id_node,
                str(source),
            ],
            capture_output=True,
            timeout=30,
            check=False,
        )
        return done.returncode == 0


def envelope(signed_resolve: str) -> bytes:
    body = signed_resolve.strip()
    if body.startswith("<?xml"):
        body = body[body.index("?>") + 2 :].lstrip()
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_NS}"><SOAP-ENV:Body>{body}'
        "</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()


def post_soap(url: str, body: bytes, tls: tuple[str, str] | None, verify) -> bytes:
    """The back channel: POST the SOAP envelope, the answer's bytes (at most 400 KiB)."""
    try:
        with requests.post(
            url,
            data=body,
            headers={
                "Content-Type": "text/xml; charset=utf-8",
                "SOAPAction": "http://www.oasis-open.org/committees/security",
            },
            cert=tls if url.startswith("https://") else None,
            verify=verify,
            timeout=TIMEOUT,
            stream=True,
            allow_redirects=False,
        ) as answer:
            if answer.status_code != 200:
                raise RefusedResponse("saml_artifact_resolve_http")
            data = b""
            for chunk in answer.iter_content(65536):
                data += chunk
                if len(data) > MAX_ANSWER_BYTES:
                    raise RefusedResponse("saml_size")
            return data
    except requests.RequestException:
        raise RefusedResponse("saml_artifact_resolve_failed") from None


def backchannel_tls(keys_dir: Path) -> tuple[tuple[str, str] | None, object]:
    """(client cert and key, or None; what to verify the IdP's certificate with)."""
    folder = Path(keys_dir) / "saml"
    cert, key, ca = (
        folder / "backchannel.crt",
        folder / "backchannel.key",
        folder / "backchannel-ca.pem",
    )
    tls = (str(cert), str(key)) if cert.exists() and key.exists() else None
    return tls, (str(ca) if ca.exists() else True)


def _standalone(element) -> bytes:
    ancestor = element.parentNode
    while ancestor is not None and ancestor.nodeType == ancestor.ELEMENT_NODE:
        for name, value in ancestor.attributes.items():
            if (name == "xmlns" or name.startswith("xmlns:")) and not element.hasAttribute(name):
                element.setAttribute(name, value)
        ancestor = ancestor.parentNode
    return element.toxml().encode("utf-8")


def unwrap(answer: bytes, resolve_id: str, idp_entity_id: str, certs: list[str]) -> bytes:
    """The ``Response`` inside a verified ``ArtifactResponse`` (module docstring)."""
    try:
        root = fromstring(answer, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise MalformedMessage("saml_dtd_or_entity") from None
    except (SyntaxError, ValueError):
        raise MalformedMessage("saml_not_well_formed") from None
    body = root.find(f"{SOAP}Body") if root.tag == f"{SOAP}Envelope" else None
    found = body.findall(f"{SAMLP}ArtifactResponse") if body is not None else []
    if len(found) != 1 or len(list(body)) != 1:
        raise RefusedResponse("saml_artifact_response")
    message = found[0]
    signatures = message.findall(f"{DS}Signature")
    if len(signatures) != 1:
        raise RefusedResponse("saml_artifact_unsigned")
    check_signature(signatures[0], message)
    ids = [node.get("ID") for node in root.iter() if node.get("ID") is not None]
    if len(ids) != len(set(ids)):
        raise RefusedResponse("saml_duplicate_id")
    node = f"{SAMLP_NS}:ArtifactResponse"
    if not any(xmlsec_verify(answer, cert, node) for cert in certs):
        raise RefusedResponse("saml_artifact_signature")
    if message.get("InResponseTo") != resolve_id:
        raise RefusedResponse("saml_in_response_to")
    issuer = message.find(f"{SAML}Issuer")
    if issuer is None or (issuer.text or "").strip() != idp_entity_id:
        raise RefusedResponse("saml_issuer")
    status = message.find(f"{SAMLP}Status/{SAMLP}StatusCode")
    if status is None or status.get("Value") != SUCCESS:
        raise RefusedResponse("saml_artifact_status")
    responses = message.findall(f"{SAMLP}Response")
    if len(responses) != 1:
        raise RefusedResponse("saml_artifact_no_response")
    dom = parse_dom(answer)
    inner = [
        element
        for element in dom.getElementsByTagNameNS(SAMLP_NS, "Response")
        if element.parentNode is not None and element.parentNode.localName == "ArtifactResponse"
    ]
    if len(inner) != 1:
        raise RefusedResponse("saml_artifact_no_response")
    return _standalone(inner[0])


def resolve_request(client, idp, saml_art: str) -> tuple[str, str, bytes]:
    """(request ID, resolution URL, SOAP envelope) of a signed ``ArtifactResolve`` for
    ``saml_art``, made by ``client`` (the IdP's pysaml2 client; hold its lock)."""
    index, _ = parse_artifact(saml_art)
    destination = resolution_service(idp.metadata_xml, index)
    resolve_id, signed = client.create_artifact_resolve(
        saml_art, destination, 0, sign=True, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256
    )
    return resolve_id, destination, envelope(str(signed))
