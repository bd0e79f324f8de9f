"""Administration of the registry for web users: form values in, Dutch problems out.

The registry service checks every rule; this class turns form text into its arguments (a JWKS
pasted as JSON, a certificate thumbprint), writes the ``admin.*`` audit event with the
administrator's NameID, and phrases refusals for the page. Client secrets cannot be set here:
they exist only for development and belong in the CLI.
"""

from __future__ import annotations

import json

from ..registry.errors import RegistryError
from ..registry.service import ClientCredentials, OrganisationRegistry
from ..services import services
from . import vocabulary
from .trail import WebTrail

WEB_AUTH_METHODS = ("private_key_jwt", "tls_client_auth")


def registry_admin() -> RegistryAdmin:
    return RegistryAdmin(services().registry, services().web_trail)


class RegistryAdmin:
    def __init__(self, registry: OrganisationRegistry, trail: WebTrail) -> None:
        self.registry = registry
        self.trail = trail

    def _refused(self, user, what: str, exc: RegistryError, subject: str | None) -> str:
        self.trail.admin(user, what, "denied", exc.code, recipient=_oin_or_none(subject))
        return refusal_text(exc)

    def add_organisation(self, user, oin: str, name: str, type_: str) -> str | None:
        try:
            self.registry.add_organisation(oin, name, type_)
        except RegistryError as exc:
            return self._refused(user, "organisation.create", exc, oin)
        self.trail.admin(user, "organisation.create", recipient=oin)
        return None

    def set_status(self, user, oin: str, status: str) -> tuple[bool, str | None]:
        verb = "suspend" if status == "suspended" else "activate"
        try:
            changed = self.registry.set_status(oin, status)
        except RegistryError as exc:
            return False, self._refused(user, f"organisation.{verb}", exc, oin)
        if changed:
            self.trail.admin(user, f"organisation.{verb}", recipient=oin)
        return changed, None

    def add_client(
        self, user, oin: str, client_id: str, auth: str, key_material: str, scopes: list[str]
    ) -> str | None:
        try:
            self.registry.add_client(oin, client_id, credentials(auth, key_material), scopes)
        except RegistryError as exc:
            return self._refused(user, "client.create", exc, oin)
        self.trail.admin(user, "client.create", recipient=oin)
        return None

    def rotate(self, user, client_id: str, auth: str, key_material: str) -> str | None:
        client = self.registry.client(client_id)
        oin = client.organisation.oin if client else None
        try:
            self.registry.rotate_client_credentials(client_id, credentials(auth, key_material))
        except RegistryError as exc:
            return self._refused(user, "client.rotate_key", exc, oin)
        self.trail.admin(user, "client.rotate_key", recipient=oin)
        return None


class _FormProblem(RegistryError):
    """A form value this page refuses before the registry sees it; ``field`` names it in
    the registry's own words (``auth``, ``jwks``), so the Dutch text is found the same way."""

    code = "invalid_registration"


def refusal_text(exc: RegistryError) -> str:
    """The Dutch sentence for a registry refusal, by its code (never the English detail):
    the code's text from the vocabulary and, for an invalid value, which field it was (the
    registry's detail starts with the field's name, ``gateway.registry.service``)."""
    text = "Niet opgeslagen: " + vocabulary.text(exc.code)
    if exc.code == "invalid_registration":
        field = str(exc.detail or "").split(" ", 1)[0].rstrip(":")
        if field in vocabulary.REGISTRATION_FIELDS:
            text += " Controleer " + vocabulary.REGISTRATION_FIELDS[field] + "."
    return text


def credentials(auth: str, key_material: str) -> ClientCredentials:
    """A JWKS (JSON text) for ``private_key_jwt``, a SHA-256 thumbprint for ``tls_client_auth``."""
    if auth not in WEB_AUTH_METHODS:
        raise _FormProblem("auth must be private_key_jwt or tls_client_auth")
    text = key_material.strip()
    if auth == "tls_client_auth":
        return ClientCredentials(auth, tls_cert_sha256=text.lower().replace(":", ""))
    try:
        jwks = json.loads(text)
    except ValueError:
        raise _FormProblem("jwks is not valid JSON") from None
    return ClientCredentials(auth, jwks=jwks)


def _oin_or_none(value: str | None) -> str | None:
    return value if value and len(value) == 20 and value.isdigit() else None
