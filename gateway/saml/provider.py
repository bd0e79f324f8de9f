"""The SAML 2.0 service provider: SP-initiated login, the assertion consumer, logout.

pysaml2 does the protocol and xmlsec1 the signatures; this class adds what pysaml2 leaves
out (the issue's "known pitfalls"): the checks of :mod:`gateway.saml.hardening` before parsing,
an outstanding-request store and an assertion-ID replay cache in the database (shared by all
processes), mandatory audience, recipient, ``InResponseTo`` and issuer checks after parsing, and
``want_assertions_signed``. A refusal raises a :class:`~gateway.saml.errors.SamlError` whose
code is logged; the message, the assertion and the exception text never are (pysaml2 puts the
whole document into some of its exception messages).
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256
from sqlalchemy.exc import SQLAlchemyError

from ..clock import Clock, system_clock
from ..config import Settings
from ..storage.database import Database
from . import binding
from .credentials import KeyPair, service_provider_keys
from .errors import RefusedResponse, SamlError, SamlNotConfigured
from .hardening import inspect_response
from .identity import SamlIdentity, identity_from
from .relaystate import safe_path
from .setup import SamlSetup, SamlSetupStore
from .stores import AssertionReplayCache, OutstandingRequests

log = logging.getLogger(__name__)

SKEW_SECONDS = 60
XMLSEC = "/usr/bin/xmlsec1"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
OTHER_BROWSER = (
    "Dit antwoord van de identiteitsprovider hoort niet bij een inlogpoging die in deze "
    "browser is gestart en is geweigerd. Er is geen sessie aangemaakt. Start het inloggen "
    "opnieuw vanaf de inlogpagina van de gateway."
)


@dataclass(frozen=True)
class Login:
    """A verified login: who, and the local path to continue to."""

    identity: SamlIdentity
    next_path: str


class _Client:
    """A pysaml2 client for one set-up, with a lock: pysaml2 objects are not thread-safe."""

    def __init__(self, config: SPConfig) -> None:
        self.client = Saml2Client(config)
        self.lock = threading.Lock()
        idps = list(config.metadata.identity_providers())
        self.idp_entity_id = idps[0]


class ServiceProvider:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        development_setup: Callable[[], SamlSetup] | None = None,
        clock: Clock = system_clock,
    ) -> None:
        base = settings.base_url
        self.settings = settings
        self.entity_id = f"{base}/saml/metadata"
        self.acs_url = f"{base}/saml/acs"
        self.slo_url = f"{base}/saml/slo"
        self.store = SamlSetupStore(db, settings.saml_idp_metadata)
        self.requests = OutstandingRequests(db, clock)
        self.replays = AssertionReplayCache(db, clock)
        self.development_setup = development_setup
        self.development_idp = None
        self.clock = clock
        self._clients: dict[str, _Client] = {}
        self._lock = threading.Lock()

    def prepare(self, keys) -> ServiceProvider:
        """Ready for one process: in development with the built-in IdP beside it.

        Production with a stored ``saml`` configuration but without the SP key pair refuses
        to start, naming the files, like every other missing production key: an SP that
        cannot sign its requests or publish its certificate cannot be registered at an IdP.
        """
        provider, settings = self, self.settings
        if not settings.is_production:
            from .devidp.idp import DevelopmentIdp

            provider.development_idp = DevelopmentIdp(
                settings.base_url,
                settings.keys_dir,
                provider.metadata,
                keys.keyring.derive("web:devidp-form"),
            )
            provider.development_setup = provider.development_idp.setup
            return provider
        try:
            configured = provider.store.load() is not None
        except (SQLAlchemyError, ValueError):
            configured = False  # readiness and /login report it; startup checks the schema
        if configured:
            provider.keys()  # ConfigurationError names the missing files
        return provider

    # configuration -------------------------------------------------------------------------
    def setup(self) -> SamlSetup | None:
        """The set-up in force: stored or from the environment, else the development IdP."""
        try:
            setup = self.store.load()
        except ValueError as exc:
            log.error("saml configuration unusable", extra={"problem": str(exc)})
            return None
        if setup is None and self.development_setup is not None:
            setup = self.development_setup()
        return setup

    def keys(self) -> KeyPair:
        return service_provider_keys(
            self.settings.keys_dir, allow_generate=not self.settings.is_production
        )

    def config(self, setup: SamlSetup | None) -> SPConfig:
        """pysaml2's SP configuration; the hardening flags are set explicitly, not defaulted."""
        keys = self.keys()
        config = SPConfig()
        config.load(
            {
                "entityid": self.entity_id,
                "xmlsec_binary": XMLSEC,
                "key_file": str(keys.key_file),
                "cert_file": str(keys.cert_file),
                "metadata": {"inline": [setup.idp_metadata]} if setup else {},
                "accepted_time_diff": SKEW_SECONDS,
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
                "allow_unknown_attributes": True,
                "only_use_keys_in_metadata": True,
                "service": {
                    "sp": {
                        "name": "Thuiszitterspact gateway",
                        "endpoints": {
                            "assertion_consumer_service": [(self.acs_url, BINDING_HTTP_POST)],
                            "single_logout_service": [
                                (self.slo_url, BINDING_HTTP_REDIRECT),
                            ],
                        },
                        "want_assertions_signed": True,
                        "want_response_signed": False,
                        "authn_requests_signed": True,
                        "logout_requests_signed": True,
                        "allow_unsolicited": False,
                        "name_id_format": NAMEID_FORMAT_PERSISTENT,
                    }
                },
            }
        )
        return config

    def client(self, setup: SamlSetup) -> _Client:
        with self._lock:
            client = self._clients.get(setup.fingerprint)
            if client is None:
                client = _Client(self.config(setup))
                self._clients = {setup.fingerprint: client}
            return client

    def require_setup(self) -> SamlSetup:
        setup = self.setup()
        if setup is None:
            raise SamlNotConfigured()
        return setup

    def metadata(self) -> str:
        """The SP metadata document (entity ID, ACS, SLO, signing certificate)."""
        return create_metadata_string(
            None, self.config(None), 4, None, None, None, None, None
        ).decode("utf-8")

    # login ---------------------------------------------------------------------------------
    def start_login(self, next_path: str | None, browser_value: str) -> str:
        """Record a new AuthnRequest and return the IdP URL to redirect the browser to.

        The request's ID is derived from ``browser_value``, the secret of the cookie the
        browser gets with this redirect (:mod:`gateway.saml.binding`).
        """
        setup = self.require_setup()
        relay_state = safe_path(next_path)
        handle = self.client(setup)
        with handle.lock:
            request_id, info = handle.client.prepare_for_authenticate(
                entityid=handle.idp_entity_id,
                relay_state=relay_state,
                binding=BINDING_HTTP_REDIRECT,
                sigalg=SIG_RSA_SHA256,
                digest_alg=DIGEST_SHA256,
                message_id=binding.request_id(browser_value),
            )
        self.requests.add(request_id, "authn", relay_state)
        return dict(info["headers"])["Location"]

    def finish_login(
        self, saml_response: str | None, relay_state: str | None, browser_value: str | None
    ) -> Login:
        """Verify a posted ``SAMLResponse``; raise a ``SamlError`` for any refusal.

        ``browser_value`` is the login cookie of the posting browser: a response to a request
        that another browser started is refused before the request is looked up (login CSRF).
        """
        setup = self.require_setup()
        facts = inspect_response(saml_response or "", self.acs_url)
        if not binding.started_here(browser_value, facts.in_response_to):
            raise RefusedResponse("saml_other_browser", OTHER_BROWSER)
        stored_relay = self.requests.take(facts.in_response_to, "authn")
        if stored_relay is None:
            raise RefusedResponse("saml_unknown_request")
        handle = self.client(setup)
        with handle.lock:
            try:
                parsed = handle.client.parse_authn_request_response(
                    # exactly the bytes the structure checks saw, never a second decoding
                    base64.b64encode(facts.xml).decode("ascii"),
                    BINDING_HTTP_POST,
                    outstanding={facts.in_response_to: stored_relay},
                )
            except SamlError:
                raise
            except Exception as exc:  # noqa: BLE001 - pysaml2 raises dozens of unrelated types
                raise RefusedResponse(f"saml_rejected_{type(exc).__name__}") from None
        if parsed is None or parsed.assertion is None:
            raise RefusedResponse("saml_rejected")
        assertion = parsed.assertion
        self.check_assertion(assertion, facts.assertion_id, facts.in_response_to, handle)
        keep_until = self.assertion_expiry(assertion)
        if not self.replays.first_use(assertion.id, keep_until):
            raise RefusedResponse("saml_replay")
        identity = identity_from(assertion, setup)
        if not identity.name_id:
            raise RefusedResponse("saml_no_name_id")
        return Login(identity, safe_path(relay_state, default=safe_path(stored_relay)))

    def check_assertion(self, assertion, assertion_id: str, request_id: str, handle) -> None:
        """What pysaml2 does not insist on: the checked assertion is the one the structure
        checks saw, from our IdP, for us (audience), to our ACS (recipient), for our request."""
        if assertion.id != assertion_id:
            raise RefusedResponse("saml_assertion_mismatch")
        issuer = (assertion.issuer.text or "").strip() if assertion.issuer else ""
        if issuer != handle.idp_entity_id:
            raise RefusedResponse("saml_issuer")
        conditions = assertion.conditions
        audiences = [
            (audience.text or "").strip()
            for restriction in (conditions.audience_restriction if conditions else None) or []
            for audience in restriction.audience or []
        ]
        if self.entity_id not in audiences:
            raise RefusedResponse("saml_audience")
        confirmed = False
        for confirmation in assertion.subject.subject_confirmation or []:
            data = confirmation.subject_confirmation_data
            if confirmation.method != BEARER or data is None:
                continue
            if data.recipient != self.acs_url:
                raise RefusedResponse("saml_recipient")
            if data.in_response_to != request_id:
                raise RefusedResponse("saml_in_response_to")
            if not data.not_on_or_after:
                raise RefusedResponse("saml_no_expiry")
            confirmed = True
        if not confirmed:
            raise RefusedResponse("saml_no_bearer_confirmation")

    def assertion_expiry(self, assertion) -> datetime:
        """Until when the assertion could be presented: its latest NotOnOrAfter plus skew."""
        moments = [
            confirmation.subject_confirmation_data.not_on_or_after
            for confirmation in assertion.subject.subject_confirmation or []
            if confirmation.subject_confirmation_data is not None
        ]
        if assertion.conditions is not None:
            moments.append(assertion.conditions.not_on_or_after)
        parsed = [_instant(m) for m in moments if m]
        latest = max(parsed, default=self.clock() + timedelta(days=1))
        return latest + timedelta(seconds=SKEW_SECONDS)


def _instant(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
