"""Single logout (SAML 2.0 profiles section 4.4), HTTP-Redirect binding, both directions.

SP-initiated: ``/logout`` ends the local session, then sends the person to the IdP with a
signed LogoutRequest; its answer comes back to ``/saml/slo``. IdP-initiated: the IdP sends a
signed LogoutRequest to ``/saml/slo``; its query-string signature is checked here against the
IdP's metadata certificate (pysaml2 checks it only when an SP asks for signed requests), with
the same algorithm allow-list as assertions, before any session is ended.

Per IdP (issue 21): our LogoutRequest goes to the IdP that signed the session in; an IdP's
LogoutRequest is matched to a registered IdP by its ``Issuer``, verified with that IdP's
certificate only, and ends only the sessions that IdP started.
"""

from __future__ import annotations

import base64
import binascii
import logging
import zlib
from urllib.parse import parse_qs

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from saml2 import BINDING_HTTP_REDIRECT
from saml2.saml import NameID
from saml2.sigver import verify_redirect_signature
from saml2.xmldsig import SIG_RSA_SHA256

from .errors import RefusedResponse
from .hardening import SIGNATURE_ALGORITHMS
from .provider import ServiceProvider

log = logging.getLogger(__name__)

SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"


SAML = "{urn:oasis:names:tc:SAML:2.0:assertion}"


def start_logout(
    provider: ServiceProvider,
    name_id: str,
    name_id_format: str | None,
    session_index: str | None,
    idp_key: str | None = None,
) -> str | None:
    """The IdP URL of a signed LogoutRequest, or None when the IdP has no SLO endpoint."""
    idp = provider.idp(idp_key)
    if idp is None or not idp.metadata_xml:
        return None
    handle = provider.client(idp)
    with handle.lock:
        client = handle.client
        services = client.metadata.single_logout_service(
            handle.idp_entity_id, BINDING_HTTP_REDIRECT, "idpsso"
        )
        if not services:
            return None
        destination = services[0]["location"]
        request_id, request = client.create_logout_request(
            destination,
            handle.idp_entity_id,
            name_id=NameID(format=name_id_format, text=name_id),
            session_indexes=[session_index] if session_index else None,
            sign=False,
        )
        info = client.apply_binding(
            BINDING_HTTP_REDIRECT,
            str(request),
            destination,
            "/",
            sign=True,
            sigalg=SIG_RSA_SHA256,
        )
    provider.requests.add(request_id, "logout", "/", idp.key)
    return dict(info["headers"])["Location"]


def _issuer(provider: ServiceProvider, message: str):
    """The IdP whose entity ID is the ``Issuer`` of a redirect-bound message (unverified: it
    only picks the certificate the message is then verified with)."""
    try:
        xml = zlib.decompress(base64.b64decode(message, validate=False), -15)
        root = fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (binascii.Error, zlib.error, ValueError, SyntaxError, DefusedXmlException):
        return None
    issuer = root.find(f"{SAML}Issuer")
    text = (issuer.text or "").strip() if issuer is not None else ""
    return next((idp for idp in provider.idps() if idp.entity_id == text and text), None)


def finish_logout(provider: ServiceProvider, saml_response: str) -> bool:
    """True when ``saml_response`` answers a LogoutRequest of ours with success."""
    idp = _issuer(provider, saml_response)
    if idp is None:
        return False
    handle = provider.client(idp)
    with handle.lock:
        try:
            parsed = handle.client.parse_logout_request_response(
                saml_response, BINDING_HTTP_REDIRECT
            )
        except Exception as exc:  # noqa: BLE001 - pysaml2 raises dozens of unrelated types
            log.info("saml logout response refused", extra={"code": type(exc).__name__})
            return False
    if parsed is None or provider.requests.take(parsed.in_response_to, "logout") is None:
        return False
    return parsed.response.status.status_code.value == SUCCESS


def idp_logout_request(
    provider: ServiceProvider, query_string: str
) -> tuple[str, str | None, str, str]:
    """Verify an IdP-initiated LogoutRequest (HTTP-Redirect, signed query string).

    Returns (the NameID to log out, its session index, the IdP URL of our signed
    LogoutResponse, the IdP's key). The query-string signature is checked here with the IdP's
    metadata certificate, because pysaml2 checks it only when the SP asks for signed requests.
    """
    args = {k: v[0] for k, v in parse_qs(query_string, keep_blank_values=True).items()}
    if args.get("SigAlg") not in SIGNATURE_ALGORITHMS or not args.get("Signature"):
        raise RefusedResponse("saml_logout_unsigned")
    idp = _issuer(provider, args.get("SAMLRequest", ""))
    if idp is None:
        raise RefusedResponse("saml_issuer")
    handle = provider.client(idp)
    with handle.lock:
        client = handle.client
        certs = client.metadata.certs(handle.idp_entity_id, "idpsso", "signing")
        verified = False
        for _name, cert in certs:
            try:
                verified = verify_redirect_signature(args, client.sec.sec_backend, cert)
            except Exception:  # noqa: BLE001, S112 - any failure means "not this key"
                continue
            if verified:
                break
        if not verified:
            raise RefusedResponse("saml_logout_signature")
        try:
            parsed = client.parse_logout_request(args["SAMLRequest"], BINDING_HTTP_REDIRECT)
        except Exception as exc:  # noqa: BLE001 - pysaml2 raises dozens of unrelated types
            raise RefusedResponse(f"saml_logout_{type(exc).__name__}") from None
        message = parsed.message
        if (message.issuer.text or "").strip() != handle.idp_entity_id:
            raise RefusedResponse("saml_issuer")
        services = client.metadata.single_logout_service(
            handle.idp_entity_id, BINDING_HTTP_REDIRECT, "idpsso"
        )
        destination = services[0]["location"] if services else None
        if destination is None:
            raise RefusedResponse("saml_no_idp_slo")
        response = client.create_logout_response(message, [BINDING_HTTP_REDIRECT])
        info = client.apply_binding(
            BINDING_HTTP_REDIRECT,
            str(response),
            destination,
            args.get("RelayState", ""),
            response=True,
            sign=True,
            sigalg=SIG_RSA_SHA256,
        )
    session_index = message.session_index[0].text if message.session_index else None
    location = dict(info["headers"])["Location"]
    return (message.name_id.text or "").strip(), session_index, location, idp.key
