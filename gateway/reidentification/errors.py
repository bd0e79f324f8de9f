"""Refusals of a re-identification step, each with its HTTP status and stable code."""

from __future__ import annotations

from ..problems import GatewayError


class ReidentificationError(GatewayError):
    """Base of the re-identification refusals."""


class UnknownPseudonym(ReidentificationError):
    """Not a pseudonym of the caller's own organisation (API.md section 7)."""

    status, code = 422, "unknown_pseudonym"

    def __init__(self) -> None:
        super().__init__(
            "The pseudonym is not one this gateway issued to your organisation.",
            errors={"pseudonym": ["Not a pseudonym of your organisation."]},
        )


class PolymorphicNotReversible(ReidentificationError):
    """A polymorphic-mode pseudonym: by design the gateway cannot turn it back into a BSN."""

    status, code = 422, "polymorphic_not_reversible"

    def __init__(self) -> None:
        super().__init__(
            "This is a polymorphic-mode pseudonym (43 characters). The gateway never held the "
            "BSN behind it and has no key to recover it; re-identification in polymorphic mode "
            "goes through the key issuer, outside this API.",
            errors={"pseudonym": ["A polymorphic pseudonym cannot be re-identified here."]},
        )


class RequestNotFound(ReidentificationError):
    """No such request, or one of another organisation (which must not be confirmed)."""

    status, code = 404, "not_found"

    def __init__(self) -> None:
        super().__init__("No re-identification request with this id.")


class NotOperator(ReidentificationError):
    """Only the operator organisation decides on re-identifications."""

    status, code = 403, "not_operator"

    def __init__(self) -> None:
        super().__init__("Only the operator organisation approves or refuses re-identifications.")


class OwnRequest(ReidentificationError):
    """An organisation never decides on a request of its own (four eyes across parties)."""

    status, code = 403, "own_request"

    def __init__(self) -> None:
        super().__init__("An organisation cannot approve or refuse its own request.")


class NotPending(ReidentificationError):
    """The request was already decided, consumed or has expired."""

    status, code = 409, "not_pending"

    def __init__(self, status: str) -> None:
        super().__init__(f"The request is {status}; only a pending request can be decided.")
