"""Why a SAML exchange was refused, as a stable code and an HTTP status.

The code goes into the log and the audit trail; the person at the browser reads the Dutch
text of the class's code (:mod:`gateway.web.vocabulary`), or a ``message`` given where the
refusal is raised. Neither ever carries the SAML message itself: an assertion holds personal
data (name, role) and, on a refused attack, attacker-controlled markup.
"""

from __future__ import annotations


class SamlError(Exception):
    """Base of SAML refusals; ``status`` and ``code`` make the error page. An instance's
    ``code`` names the failed check (for the log); the page explains the class's code."""

    status = 400
    code = "saml_error"
    message: str | None = None

    def __init__(self, code: str | None = None, message: str | None = None, status=None) -> None:
        super().__init__(code or self.code)
        if code is not None:
            self.code = code
        if message is not None:
            self.message = message
        if status is not None:
            self.status = status


class SamlNotConfigured(SamlError):
    """No identity provider is configured (production without a ``saml`` block)."""

    status = 503
    code = "saml_not_configured"


class MalformedMessage(SamlError):
    """The message is not a well-formed, safe SAML document (XXE, DTD, comments, size)."""

    status = 400
    code = "saml_malformed"


class RefusedResponse(SamlError):
    """A well-formed response that fails a security check (signature, audience, time...)."""

    status = 403
    code = "saml_refused"
