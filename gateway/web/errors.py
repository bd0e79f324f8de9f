"""Error pages for people: Dutch HTML instead of the API's problem+json.

The application's global handler answers problem+json, which is right for ``/api`` and wrong
for a browser. The web, SAML and development-IdP blueprints register :func:`register` so that
anything raised in their views becomes a short Dutch page: a :class:`WebError` with its own
text, a refusal the one problem table knows (:data:`gateway.errors.TABLE`: its status, and
the Dutch text of its code from :mod:`gateway.web.vocabulary`), or a Werkzeug HTTP error.
"""

from __future__ import annotations

import logging

from flask import Blueprint, render_template
from werkzeug.exceptions import HTTPException

from ..errors import HTTP_CODES, TABLE, answer_of
from ..saml.errors import SamlError
from . import vocabulary

log = logging.getLogger(__name__)


class WebError(Exception):
    """A refusal with a Dutch explanation; ``status`` is the HTTP status of the page."""

    def __init__(self, status: int, message: str, title: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.title = title or vocabulary.title(status)


def page(status: int, message: str, title: str | None = None, **context):
    body = render_template(
        "web/error.html",
        status=status,
        title=title or vocabulary.title(status),
        message=message,
        **context,
    )
    return body, status


def _web_error(exc: WebError):
    return page(exc.status, exc.message, exc.title)


def _saml_error(exc: SamlError):
    log.warning("saml refused", extra={"code": exc.code, "status": exc.status})
    # the text of the class's code: an instance's code names the check that failed
    message = exc.message or vocabulary.text(type(exc).code)
    return page(
        exc.status, message, "Inloggen geweigerd" if exc.status < 500 else None, code=exc.code
    )


def _refusal(exc: Exception):
    answer = answer_of(exc)
    return page(answer.status, vocabulary.text(answer.code))


def _http_error(exc: HTTPException):
    status = exc.code or 500
    if status >= 500:
        raise exc
    return page(status, vocabulary.text(HTTP_CODES.get(status, "bad_request")))


def register(bp: Blueprint) -> None:
    bp.register_error_handler(WebError, _web_error)
    bp.register_error_handler(SamlError, _saml_error)
    bp.register_error_handler(HTTPException, _http_error)
    for cls, entry in TABLE.items():  # refusals; an unavailable database stays the API's 503
        if cls is not SamlError and (entry.status is None or entry.status < 500):
            bp.register_error_handler(cls, _refusal)
