"""Error pages for people: Dutch HTML instead of the API's problem+json.

The application's global handler answers problem+json, which is right for ``/api`` and wrong
for a browser. The web, SAML and development-IdP blueprints register :func:`register` so that
anything raised in their views, a refusal of ours or a Werkzeug HTTP error, becomes a short
Dutch page with the same status code.
"""

from __future__ import annotations

import logging

from flask import Blueprint, render_template
from werkzeug.exceptions import HTTPException

from ..saml.errors import SamlError

log = logging.getLogger(__name__)

TITLES = {
    400: "Ongeldig verzoek",
    403: "Geen toegang",
    404: "Pagina niet gevonden",
    405: "Methode niet toegestaan",
    413: "Verzoek te groot",
    429: "Te veel verzoeken",
    503: "Niet beschikbaar",
}
MESSAGES = {
    400: "Het verzoek kon niet worden verwerkt.",
    403: "Je hebt geen toegang tot deze pagina.",
    404: "Deze pagina bestaat niet.",
    405: "Deze pagina kan zo niet worden gebruikt.",
    413: "Het verzoek is te groot.",
    429: "Er kwamen te veel verzoeken van dit adres. Wacht even en probeer het dan opnieuw.",
}


class WebError(Exception):
    """A refusal with a Dutch explanation; ``status`` is the HTTP status of the page."""

    def __init__(self, status: int, message: str, title: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.title = title or TITLES.get(status, "Fout")


def page(status: int, message: str, title: str | None = None, **context):
    body = render_template(
        "web/error.html",
        status=status,
        title=title or TITLES.get(status, "Fout"),
        message=message,
        **context,
    )
    return body, status


def _web_error(exc: WebError):
    return page(exc.status, exc.message, exc.title)


def _saml_error(exc: SamlError):
    log.warning("saml refused", extra={"code": exc.code, "status": exc.status})
    return page(
        exc.status, exc.message, "Inloggen geweigerd" if exc.status < 500 else None, code=exc.code
    )


def _http_error(exc: HTTPException):
    status = exc.code or 500
    if status >= 500:
        raise exc
    return page(status, MESSAGES.get(status, "Het verzoek kon niet worden verwerkt."))


def register(bp: Blueprint) -> None:
    bp.register_error_handler(WebError, _web_error)
    bp.register_error_handler(SamlError, _saml_error)
    bp.register_error_handler(HTTPException, _http_error)
