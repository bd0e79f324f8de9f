"""Errors of the organisation registry, each with a stable code."""


class RegistryError(Exception):
    code = "registry_error"


class InvalidRegistration(RegistryError):
    """A value that the registry refuses (bad OIN, unknown scope, ...)."""

    code = "invalid_registration"


class UnknownOrganisation(RegistryError):
    code = "unknown_organisation"


class UnknownClient(RegistryError):
    code = "unknown_client"


class DuplicateRegistration(RegistryError):
    code = "duplicate_registration"
