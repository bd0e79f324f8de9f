"""The OAuth view of a registered client: a detached snapshot with authlib's client hooks.

The registry's SQLAlchemy ``Client`` belongs to a session; the authorization server needs a
plain value it can keep for the whole request, together with the organisation facts that
decide whether the client may act at all (a suspended organisation's clients are refused,
API.md section 2).
"""

from __future__ import annotations

from dataclasses import dataclass

GRANT_TYPE = "client_credentials"


@dataclass(frozen=True, repr=False)
class ClientRecord:
    """A client and its organisation, as stored when the request started.

    Its ``repr`` names the client only: authlib logs clients at debug level, and key material
    or a secret's hash has no place in a log.
    """

    client_id: str
    auth_method: str
    jwks: dict | None
    tls_cert_sha256: str | None
    secret_hash: str | None
    scopes: tuple[str, ...]
    org_id: int
    org_oin: str
    org_type: str
    org_name: str
    org_status: str

    def __repr__(self) -> str:
        return f"<ClientRecord {self.client_id}>"

    @property
    def org_active(self) -> bool:
        return self.org_status == "active"

    # authlib ClientMixin hooks (rfc6749/models.py) -----------------------------------------
    def get_client_id(self) -> str:
        return self.client_id

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """RFC 7591 section 2: a client authenticates only with its registered method."""
        return method == self.auth_method

    def check_grant_type(self, grant_type: str) -> bool:
        """Partner systems act for themselves only: RFC 6749 section 4.4 and nothing else."""
        return grant_type == GRANT_TYPE

    def get_allowed_scope(self, scope: str) -> str:
        requested = scope.split() if scope else list(self.scopes)
        return " ".join(s for s in requested if s in self.scopes)
