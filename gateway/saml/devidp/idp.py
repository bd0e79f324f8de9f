"""A SAML identity provider for development, built on pysaml2's own IdP (``saml2.server``).

It lets ``make run`` show the web pages at once: ``/login`` goes to ``/devidp/sso``, which
lists the demo users; choosing one posts a signed response to the SP, exactly as a real IdP
would (RSA-SHA256, signed assertion). It is wired only when
``GATEWAY_ENV=development`` and no ``saml`` configuration exists; production has no route to it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections.abc import Callable
from pathlib import Path

from saml2 import BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from ..credentials import development_idp_keys
from ..setup import DEFAULT_ATTRIBUTES, DEFAULT_ROLES, SamlSetup
from .users import DemoUser

XMLSEC = "/usr/bin/xmlsec1"
AUTHN_CLASS = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"


class DevelopmentIdp:
    def __init__(
        self, base_url: str, keys_dir: Path, sp_metadata: Callable[[], str], form_key: bytes
    ) -> None:
        self.entity_id = f"{base_url}/devidp/metadata"
        self.sso_url = f"{base_url}/devidp/sso"
        self.slo_url = f"{base_url}/devidp/slo"
        self.keys_dir = keys_dir
        self.sp_metadata = sp_metadata
        self.form_key = form_key
        self._server: Server | None = None
        self._metadata: str | None = None
        self._lock = threading.Lock()

    def config(self, sp_metadata: str | None) -> IdPConfig:
        keys = development_idp_keys(self.keys_dir)
        config = IdPConfig()
        config.load(
            {
                "entityid": self.entity_id,
                "xmlsec_binary": XMLSEC,
                "key_file": str(keys.key_file),
                "cert_file": str(keys.cert_file),
                "metadata": {"inline": [sp_metadata]} if sp_metadata else {},
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
                "service": {
                    "idp": {
                        "name": "Ontwikkel-IdP",
                        "endpoints": {
                            "single_sign_on_service": [(self.sso_url, BINDING_HTTP_REDIRECT)],
                            "single_logout_service": [(self.slo_url, BINDING_HTTP_REDIRECT)],
                        },
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                        "sign_response": False,
                        "sign_assertion": True,
                        "policy": {
                            "default": {
                                "lifetime": {"minutes": 5},
                                "attribute_restrictions": None,
                                "name_form": NAME_FORMAT_URI,
                            }
                        },
                    }
                },
            }
        )
        return config

    def metadata(self) -> str:
        with self._lock:
            if self._metadata is None:
                self._metadata = create_metadata_string(
                    None, self.config(None), 4, None, None, None, None, None
                ).decode("utf-8")
            return self._metadata

    def setup(self) -> SamlSetup:
        """The SP's view of this IdP: its metadata and the default attributes and roles."""
        return SamlSetup(
            self.metadata(), dict(DEFAULT_ATTRIBUTES), dict(DEFAULT_ROLES), "development"
        )

    def server(self) -> Server:
        with self._lock:
            if self._server is None:
                self._server = Server(config=self.config(self.sp_metadata()))
            return self._server

    def form_token(self, saml_request: str, relay_state: str) -> str:
        """Ties the user-choice form to the request it shows (the IdP's CSRF token)."""
        message = f"{saml_request}\n{relay_state}".encode()
        return hmac.new(self.form_key, message, hashlib.sha256).hexdigest()

    def check_form_token(self, saml_request: str, relay_state: str, token: str) -> bool:
        expected = self.form_token(saml_request, relay_state).encode()
        # as bytes: compare_digest raises on a non-ASCII str, and the token is posted text
        return hmac.compare_digest(expected, (token or "").encode("utf-8", "replace"))

    def read_request(self, saml_request: str):
        """The AuthnRequest of an HTTP-Redirect ``SAMLRequest`` (pysaml2's parser)."""
        server = self.server()
        with self._lock:
            return server.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT).message

    def respond(self, saml_request: str, user: DemoUser) -> tuple[str, str]:
        """(ACS URL, base64 SAMLResponse) logging ``user`` in for ``saml_request``."""
        request = self.read_request(saml_request)
        server = self.server()
        identity = {
            DEFAULT_ATTRIBUTES["role"]: list(user.role_values),
            DEFAULT_ATTRIBUTES["org"]: [user.org_oin],
            DEFAULT_ATTRIBUTES["name"]: [user.display_name],
        }
        with self._lock:
            response = server.create_authn_response(
                identity,
                in_response_to=request.id,
                destination=request.assertion_consumer_service_url,
                sp_entity_id=request.issuer.text,
                name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=user.name_id),
                authn={"class_ref": AUTHN_CLASS},
                sign_response=False,  # the assertion's signature is what the SP requires;
                sign_assertion=True,  # one xmlsec1 run less per login
                sign_alg=SIG_RSA_SHA256,
                digest_alg=DIGEST_SHA256,
            )
        encoded = base64.b64encode(str(response).encode("utf-8")).decode("ascii")
        return request.assertion_consumer_service_url, encoded

    def logout(self, saml_request: str, relay_state: str) -> str:
        """The SP URL of a signed LogoutResponse answering an SP's LogoutRequest."""
        server = self.server()
        with self._lock:
            request = server.parse_logout_request(saml_request, BINDING_HTTP_REDIRECT).message
            response = server.create_logout_response(request, [BINDING_HTTP_REDIRECT])
            destinations = server.metadata.single_logout_service(
                request.issuer.text, BINDING_HTTP_REDIRECT, "spsso"
            )
            info = server.apply_binding(
                BINDING_HTTP_REDIRECT,
                str(response),
                destinations[0]["location"],
                relay_state,
                response=True,
                sign=True,
                sigalg=SIG_RSA_SHA256,
            )
        return dict(info["headers"])["Location"]
