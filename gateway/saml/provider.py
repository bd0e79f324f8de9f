"""The SAML 2.0 service provider: SP-initiated login, the assertion consumers, logout.

pysaml2 does the protocol and xmlsec1 the signatures; this class adds what pysaml2 leaves
out (the issue's "known pitfalls"): the checks of :mod:`gateway.saml.hardening` before parsing,
an outstanding-request store and an assertion-ID replay cache in the database (shared by all
processes), mandatory audience, recipient, ``InResponseTo`` and issuer checks after parsing, and
``want_assertions_signed``. A refusal raises a :class:`~gateway.saml.errors.SamlError` whose
code is logged; the message, the assertion and the exception text never are (pysaml2 puts the
whole document into some of its exception messages).

Several IdPs at once (issue 21, :mod:`gateway.saml.idps`): each has its own pysaml2 client
that trusts only that IdP's metadata, and each outstanding request remembers the IdP it went
to, so a response is verified against the IdP that was asked and no other. A response comes
by HTTP-POST to ``/saml/acs`` or, for an artifact IdP, is fetched over the back channel
(:mod:`gateway.saml.artifact`) after the browser brought ``SAMLart`` to
``/saml/acs/artifact``; an IdP configured to encrypt must encrypt (:mod:`gateway.saml.xmlenc`).
Then the IdP's attribute profile names the organisation (:mod:`gateway.saml.profiles`) and
:func:`gateway.saml.idps.resolve_organisation` decides whether the IdP may vouch for it.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from saml2 import BINDING_HTTP_ARTIFACT, BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_PERSISTENT, AuthnContextClassRef
from saml2.samlp import RequestedAuthnContext
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256
from sqlalchemy.exc import SQLAlchemyError

from ..clock import Clock, system_clock
from ..config import Settings
from ..storage.database import Database
from . import artifact, binding
from .credentials import KeyPair, encryption_keys, service_provider_keys
from .errors import MalformedMessage, RefusedResponse, SamlError, SamlNotConfigured
from .hardening import SAMLP, check_response, decode, parse
from .identity import SamlIdentity
from .idps import (
    DEVELOPMENT_KEY,
    LEGACY_KEY,
    IdentityProvider,
    NotVouched,
    from_setup,
    registered,
    resolve_organisation,
    roles_of,
)
from .metadata import MetadataRefresher
from .profiles import read_claim
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
UNAVAILABLE = (
    "Inloggen via deze identiteitsprovider kan op dit moment niet: hij is geschorst, of zijn "
    "metadata is verlopen of nog niet opgehaald. Er is geen sessie aangemaakt. Kies een ander "
    "inlogmiddel of probeer het later opnieuw; blijft dit zo, neem dan contact op met de "
    "beheerder van de gateway."
)
WRONG_BINDING = (
    "Dit antwoord van de identiteitsprovider kwam niet langs de weg die voor deze "
    "identiteitsprovider is afgesproken en is geweigerd. Er is geen sessie aangemaakt."
)


class ChooseIdp(SamlError):
    """Several IdPs are configured and none was chosen: the discovery page is shown."""

    status = 200
    code = "saml_choose_idp"

    def __init__(self, idps: list[IdentityProvider]) -> None:
        super().__init__()
        self.idps = idps


class IdpUnavailable(SamlError):
    """The chosen IdP is unknown, suspended, or its metadata has expired."""

    status = 503
    code = "saml_idp_unavailable"
    message = UNAVAILABLE


@dataclass(frozen=True)
class Login:
    """A verified login: who, and the local path to continue to."""

    identity: SamlIdentity
    next_path: str


class _Client:
    """A pysaml2 client for one IdP, with a lock: pysaml2 objects are not thread-safe."""

    def __init__(self, config: SPConfig, idp: IdentityProvider) -> None:
        self.client = Saml2Client(config)
        self.lock = threading.Lock()
        self.idp = idp
        self.idp_entity_id = idp.entity_id


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
        self.db = db
        self.entity_id = f"{base}/saml/metadata"
        self.acs_url = f"{base}/saml/acs"
        self.artifact_acs_url = f"{base}/saml/acs/artifact"
        self.slo_url = f"{base}/saml/slo"
        self.store = SamlSetupStore(db, settings.saml_idp_metadata)
        self.requests = OutstandingRequests(db, clock)
        self.replays = AssertionReplayCache(db, clock)
        self.refresher = MetadataRefresher(db, clock)
        self.development_setup = development_setup
        self.development_idp = None
        self.clock = clock
        self.artifact_transport = artifact.post_soap
        self._clients: dict[str, tuple[str, _Client]] = {}
        self._lock = threading.Lock()

    @property
    def admin(self):
        """The IdP registry as the admin pages change it (:mod:`gateway.saml.admin`)."""
        from .admin import IdpAdmin

        return IdpAdmin(self.db, self.refresher, self.clock)

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
            with provider.db.session() as session:
                configured = provider.store.load() is not None or bool(registered(session))
        except (SQLAlchemyError, ValueError):
            configured = False  # readiness and /login report it; startup checks the schema
        if configured:
            provider.keys()  # ConfigurationError names the missing files
        return provider

    # configuration -------------------------------------------------------------------------
    def setup(self) -> SamlSetup | None:
        """The single-IdP set-up: stored or from the environment, else the development IdP."""
        try:
            setup = self.store.load()
        except ValueError as exc:
            log.error("saml configuration unusable", extra={"problem": str(exc)})
            return None
        if setup is None and self.development_setup is not None:
            setup = self.development_setup()
        return setup

    def registered(self) -> list[IdentityProvider]:
        with self.db.session() as session:
            found = registered(session)
        if found:
            self.refresher.ensure_running()
        return found

    def idps(self) -> list[IdentityProvider]:
        """Every IdP: the ``saml:`` block's (or the development IdP), then the registered."""
        found = []
        try:
            stored = self.store.load()
        except ValueError as exc:
            log.error("saml configuration unusable", extra={"problem": str(exc)})
            stored = None
        if stored is not None:
            found.append(
                from_setup(
                    stored, LEGACY_KEY, "Inlogdienst van de beheerorganisatie", stored.source
                )
            )
        elif self.development_setup is not None:
            found.append(
                from_setup(
                    self.development_setup(), DEVELOPMENT_KEY, "Ontwikkel-IdP", "development"
                )
            )
        try:
            found += self.registered()
        except SQLAlchemyError:
            log.exception("could not read the registered identity providers")
        return found

    def usable_idps(self) -> list[IdentityProvider]:
        now = self.clock()
        return [idp for idp in self.idps() if idp.usable(now)]

    def idp(self, key: str | None) -> IdentityProvider | None:
        for idp in self.idps():
            if idp.key == key or (key is None and idp.key in (LEGACY_KEY, DEVELOPMENT_KEY)):
                return idp
        return None

    def keys(self) -> KeyPair:
        return service_provider_keys(
            self.settings.keys_dir, allow_generate=not self.settings.is_production
        )

    def encryption_keys(self) -> list[KeyPair]:
        """The SP's encryption key pairs, newest first (two during a rotation)."""
        return encryption_keys(
            self.settings.keys_dir, allow_generate=not self.settings.is_production
        )

    def decryption_keys(self) -> list:
        from .xmlenc import load_private_keys

        return load_private_keys(pair.key_file.read_bytes() for pair in self.encryption_keys())

    def config(self, idp: IdentityProvider | None) -> SPConfig:
        """pysaml2's SP configuration; the hardening flags are set explicitly, not defaulted."""
        keys = self.keys()
        config = SPConfig()
        settings = {
            "entityid": self.entity_id,
            "xmlsec_binary": XMLSEC,
            "key_file": str(keys.key_file),
            "cert_file": str(keys.cert_file),
            "metadata": {"inline": [idp.metadata_xml]} if idp else {},
            "accepted_time_diff": SKEW_SECONDS,
            "signing_algorithm": SIG_RSA_SHA256,
            "digest_algorithm": DIGEST_SHA256,
            "allow_unknown_attributes": True,
            "only_use_keys_in_metadata": True,
            "service": {
                "sp": {
                    "name": "Thuiszitterspact gateway",
                    "endpoints": {
                        "assertion_consumer_service": [
                            (self.acs_url, BINDING_HTTP_POST),
                            (self.artifact_acs_url, BINDING_HTTP_ARTIFACT),
                        ],
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
        pairs = self.encryption_keys()
        if pairs:
            settings["encryption_keypairs"] = [
                {"key_file": str(pair.key_file), "cert_file": str(pair.cert_file)} for pair in pairs
            ]
        config.load(settings)
        return config

    def client(self, idp: IdentityProvider) -> _Client:
        with self._lock:
            cached = self._clients.get(idp.key)
            if cached is None or cached[0] != idp.fingerprint:
                cached = (idp.fingerprint, _Client(self.config(idp), idp))
                self._clients[idp.key] = cached
            return cached[1]

    def require_setup(self) -> SamlSetup:
        setup = self.setup()
        if setup is None:
            raise SamlNotConfigured()
        return setup

    def metadata(self) -> str:
        """The SP metadata document: entity ID, both ACS (POST and Artifact), SLO, the signing
        certificate and every encryption certificate (two during a key rotation)."""
        return create_metadata_string(
            None, self.config(None), 4, None, None, None, None, None
        ).decode("utf-8")

    # login ---------------------------------------------------------------------------------
    def choose(self, idp_key: str | None) -> IdentityProvider:
        """The IdP to sign in at: the one named, or the only one; raises ``ChooseIdp`` when
        several are usable and none was named."""
        idps = self.idps()
        if not idps:
            raise SamlNotConfigured()
        now = self.clock()
        if idp_key is not None:
            chosen = next((idp for idp in idps if idp.key == idp_key), None)
            if chosen is None or not chosen.usable(now):
                raise IdpUnavailable()
            return chosen
        usable = [idp for idp in idps if idp.usable(now)]
        if len(usable) == 1:
            return usable[0]
        if not usable:
            raise IdpUnavailable()
        raise ChooseIdp(usable)

    def start_login(
        self, next_path: str | None, browser_value: str, idp_key: str | None = None
    ) -> str:
        """Record a new AuthnRequest and return the IdP URL to redirect the browser to.

        The request's ID is derived from ``browser_value``, the secret of the cookie the
        browser gets with this redirect (:mod:`gateway.saml.binding`).
        """
        idp = self.choose(idp_key)
        relay_state = safe_path(next_path)
        handle = self.client(idp)
        extra = {}
        if idp.binding == "artifact":
            extra["response_binding"] = BINDING_HTTP_ARTIFACT
        if idp.authn_context:
            extra["requested_authn_context"] = RequestedAuthnContext(
                authn_context_class_ref=[AuthnContextClassRef(text=v) for v in idp.authn_context],
                comparison="minimum",
            )
        with handle.lock:
            request_id, info = handle.client.prepare_for_authenticate(
                entityid=handle.idp_entity_id,
                relay_state=relay_state,
                binding=BINDING_HTTP_REDIRECT,
                sigalg=SIG_RSA_SHA256,
                digest_alg=DIGEST_SHA256,
                message_id=binding.request_id(browser_value),
                **extra,
            )
        self.requests.add(request_id, "authn", relay_state, idp.key)
        return dict(info["headers"])["Location"]

    def finish_login(
        self, saml_response: str | None, relay_state: str | None, browser_value: str | None
    ) -> Login:
        """Verify a posted ``SAMLResponse``; raise a ``SamlError`` for any refusal.

        ``browser_value`` is the login cookie of the posting browser: a response to a request
        that another browser started is refused before the request is looked up (login CSRF).
        """
        return self._finish(decode(saml_response or ""), relay_state, browser_value, None)

    def finish_artifact(
        self, saml_art: str | None, relay_state: str | None, browser_value: str | None
    ) -> Login:
        """Resolve ``SAMLart`` at the artifact IdP it names and verify the response."""
        _, source = artifact.parse_artifact(saml_art)
        now = self.clock()
        idp = next(
            (
                idp
                for idp in self.idps()
                if idp.binding == "artifact" and artifact.source_id(idp.entity_id) == source
            ),
            None,
        )
        if idp is None:
            raise RefusedResponse("saml_artifact_source")
        if not idp.usable(now):
            raise IdpUnavailable()
        handle = self.client(idp)
        with handle.lock:
            resolve_id, destination, body = artifact.resolve_request(
                handle.client, idp, saml_art or ""
            )
        tls, verify = artifact.backchannel_tls(self.settings.keys_dir)
        answer = self.artifact_transport(destination, body, tls, verify)
        xml = artifact.unwrap(
            answer, resolve_id, idp.entity_id, artifact.signing_certificates(idp.metadata_xml)
        )
        return self._finish(xml, relay_state, browser_value, idp)

    def _finish(
        self,
        xml: bytes,
        relay_state: str | None,
        browser_value: str | None,
        resolved_at: IdentityProvider | None,
    ) -> Login:
        root = parse(xml)
        if root.tag != f"{SAMLP}Response":
            raise MalformedMessage("saml_not_a_response")
        in_response_to = root.get("InResponseTo") or ""
        if not in_response_to:
            raise RefusedResponse("saml_unsolicited")
        if not binding.started_here(browser_value, in_response_to):
            raise RefusedResponse("saml_other_browser", OTHER_BROWSER)
        outstanding, idp_key = self.requests.idp_of(in_response_to, "authn")
        if not outstanding:
            raise RefusedResponse("saml_unknown_request")
        idp = self.idp(idp_key)
        if idp is None or not idp.usable(self.clock()):
            raise IdpUnavailable()
        via_artifact = resolved_at is not None
        if via_artifact and resolved_at.key != idp.key:
            raise RefusedResponse("saml_issuer")
        if via_artifact != (idp.binding == "artifact"):
            raise RefusedResponse("saml_binding", WRONG_BINDING)
        acs_url = self.artifact_acs_url if via_artifact else self.acs_url
        keys = self.decryption_keys() if idp.encrypt_assertions else None
        facts = check_response(xml, acs_url, decrypt_with=keys)
        stored_relay = self.requests.take(facts.in_response_to, "authn")
        if stored_relay is None:
            raise RefusedResponse("saml_unknown_request")
        handle = self.client(idp)
        with handle.lock:
            try:
                parsed = handle.client.parse_authn_request_response(
                    # exactly the bytes the structure checks saw, never a second decoding
                    base64.b64encode(facts.xml).decode("ascii"),
                    # the binding names the ACS whose URL the Destination must be
                    BINDING_HTTP_ARTIFACT if via_artifact else BINDING_HTTP_POST,
                    outstanding={facts.in_response_to: stored_relay},
                )
            except SamlError:
                raise
            except Exception as exc:  # noqa: BLE001 - pysaml2 raises dozens of unrelated types
                raise RefusedResponse(f"saml_rejected_{type(exc).__name__}") from None
        if parsed is None or parsed.assertion is None:
            raise RefusedResponse("saml_rejected")
        assertion = parsed.assertion
        self.check_assertion(assertion, facts.assertion_id, facts.in_response_to, handle, acs_url)
        keep_until = self.assertion_expiry(assertion)
        if not self.replays.first_use(assertion.id, keep_until):
            raise RefusedResponse("saml_replay")
        identity = self.identity(assertion, idp)
        if not identity.name_id:
            raise RefusedResponse("saml_no_name_id")
        return Login(identity, safe_path(relay_state, default=safe_path(stored_relay)))

    def identity(self, assertion, idp: IdentityProvider) -> SamlIdentity:
        """Who signed in, for which organisation (raises ``NotVouched``), with which roles."""
        claim = read_claim(assertion, idp.profile, idp.attributes)
        name_id = assertion.subject.name_id
        text = (name_id.text or "").strip()
        with self.db.session() as session:
            try:
                org_oin = resolve_organisation(session, idp, claim)
            except NotVouched as exc:
                exc.actor_user = text[:400] or None
                raise
        session_index = None
        for statement in assertion.authn_statement or []:
            session_index = statement.session_index or session_index
        return SamlIdentity(
            name_id=text,
            name_id_format=name_id.format,
            session_index=session_index,
            display_name=(claim.display_name or text)[:200],
            org_oin=org_oin,
            roles=roles_of(claim, idp),
            idp=idp.key,
        )

    def check_assertion(
        self, assertion, assertion_id: str, request_id: str, handle, acs_url: str | None = None
    ) -> None:
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
            if data.recipient != (acs_url or self.acs_url):
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
