"""Refusals of the organisation registry: problems (:mod:`gateway.problems`) with a stable
code and status, so the CLI, the admin pages and any API answer them alike."""

from __future__ import annotations

from ..problems import GatewayError


class RegistryError(GatewayError):
    status, code = 422, "registry_error"


class InvalidRegistration(RegistryError):
    """A value that the registry refuses (bad OIN, unknown scope, ...)."""

    code = "invalid_registration"


class UnknownOrganisation(RegistryError):
    status, code = 404, "unknown_organisation"


class UnknownClient(RegistryError):
    status, code = 404, "unknown_client"


class DuplicateRegistration(RegistryError):
    """An organisation or client that is already registered."""

    status, code = 409, "duplicate_registration"


class RecipientUnresolved(RegistryError):
    """A role address that no organisation serves (docs/pact-workflows.md section 6.1). The
    message names the area, never a child: the answer cannot depend on whom the send is about."""

    status, code = 404, "recipient_unresolved"


class RecipientAmbiguous(RegistryError):
    """A role address that more than one organisation serves. The message counts them and
    names no OIN: a caller that may read the registry can address one by OIN."""

    status, code = 409, "recipient_ambiguous"
