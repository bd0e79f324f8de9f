"""Every error the gateway answers, as RFC 9457 problem details with a stable ``code``.

:data:`TABLE` is the one table from exception class to answer: the gateway's own refusals
(:class:`~gateway.problems.GatewayError` and its subclasses, each with a class-level
``status`` and ``code``) and the domain packages' exceptions (each class with its ``code``,
the status given here, because a domain package knows nothing of HTTP). The API's error
handler, the Dutch web pages (:mod:`gateway.web.errors`) and the CLI (:mod:`gateway.cli.main`)
all read it through :func:`answer_of`. Unexpected exceptions become a 500 ``internal_error``
with an ``error_id`` that the log also holds, and never a traceback in the body.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import quote

from flask import Flask, Response, json, request
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from consent.errors import ConsentError, ConsentNotFoundError, WithdrawNotAllowedError
from pseudonymise import BulkInputError, PseudonymiseError
from schemas.errors import InvalidParameterError, SchemaValidationError

from .audit.checkpoints import CheckpointUnavailable
from .pep.subjects import PolymorphicRefusal
from .problems import GatewayError
from .saml.errors import SamlError
from .strictjson import InvalidJsonError

log = logging.getLogger(__name__)

PROBLEM_TYPE_PREFIX = "urn:nl:thuiszitterspact:problem:"
PROBLEM_CONTENT_TYPE = "application/problem+json"


@dataclass(frozen=True)
class Entry:
    """How the table answers one exception class. ``None`` means: the exception's own
    (``status``, ``code``, ``detail`` or message, ``errors``, ``headers`` attributes)."""

    status: int | None = None
    code: str | None = None
    detail: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


OWN = Entry()
"""The exception carries its whole answer (a class-level ``status`` and ``code``)."""

UNAVAILABLE = Entry(
    503, "service_unavailable", "The database is unavailable; retry later.", {"Retry-After": "5"}
)

TABLE: dict[type[BaseException], Entry] = {
    # the gateway's own refusals, and the ones that carry their status per instance
    GatewayError: OWN,
    PolymorphicRefusal: OWN,
    SamlError: OWN,
    # the domain packages: the class names its code, this table its status
    InvalidJsonError: Entry(400),
    SchemaValidationError: Entry(422, detail="The request body is not valid."),
    InvalidParameterError: Entry(400, detail="cursor or limit is not valid."),
    ConsentError: Entry(422),
    ConsentNotFoundError: Entry(404),
    WithdrawNotAllowedError: Entry(403),
    PseudonymiseError: Entry(422),
    BulkInputError: Entry(400),
    # below the refusals: a broken chain, an unreachable database
    CheckpointUnavailable: Entry(409, "audit_chain_invalid"),
    OperationalError: UNAVAILABLE,
    PoolTimeout: UNAVAILABLE,
}


@dataclass(frozen=True)
class Answer:
    """What the table says about one raised exception: the members of its problem."""

    status: int
    code: str
    detail: str | None
    title: str | None = None
    errors: Mapping[str, list[str]] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        """One line for a terminal: ``404 not_found: No such message.``"""
        return f"{self.status} {self.code}: {self.detail or HTTPStatus(self.status).description}"


def entry_of(exception_class: type[BaseException]) -> Entry | None:
    """The table's entry for an exception class: that of its most specific class in it."""
    for cls in exception_class.__mro__:
        entry = TABLE.get(cls)
        if entry is not None:
            return entry
    return None


def answer_of(exc: BaseException) -> Answer | None:
    """The problem ``exc`` is answered with, or None for an exception the table does not know
    (a bug: the caller answers ``internal_error``)."""
    entry = entry_of(type(exc))
    if entry is None:
        return None
    if entry.detail is not None:
        detail = entry.detail
    elif hasattr(exc, "detail"):
        detail = exc.detail
    else:
        detail = str(exc) or None
    return Answer(
        status=entry.status or exc.status,
        code=entry.code or getattr(exc, "code", None) or "bad_request",
        detail=detail,
        title=getattr(exc, "title", None),
        errors=getattr(exc, "errors", None) or None,
        headers={**entry.headers, **(getattr(exc, "headers", None) or {})},
    )


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    429: "too_many_requests",
    431: "request_header_fields_too_large",
}
"""The codes of Werkzeug's own HTTP errors (an unknown path, a method not allowed, ...)."""


def problem(
    status: int,
    code: str,
    detail: str | None = None,
    *,
    title: str | None = None,
    errors: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, object] | None = None,
) -> Response:
    """Build a problem+json response; ``instance`` is the request path (never the query)."""
    from flask import g

    if request:
        g.problem_code = code
    body: dict[str, object] = {
        "type": PROBLEM_TYPE_PREFIX + code,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail or HTTPStatus(status).description,
        "code": code,
        # percent-encoded: ``request.path`` is decoded, and RFC 9457 wants a URI reference
        "instance": quote(request.path, safe="/") if request else None,
    }
    if errors:
        body["errors"] = {path: list(messages) for path, messages in errors.items()}
    if extra:
        body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_answer(answer: Answer) -> Response:
    return problem(
        answer.status,
        answer.code,
        answer.detail,
        title=answer.title,
        errors=answer.errors,
        headers=answer.headers,
    )


def from_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    if status >= 500:
        return internal_error(exc)
    code = HTTP_CODES.get(status, "bad_request")
    headers = {}
    if status == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(exc.valid_methods)
    return problem(status, code, exc.description, headers=headers)


def internal_error(exc: BaseException) -> Response:
    """Log the failure under a fresh id and answer a 500 that names only that id."""
    error_id = str(uuid.uuid4())
    log.error(
        "unexpected error",
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"error_id": error_id, "path": request.path if request else None},
    )
    return problem(
        500,
        "internal_error",
        "The gateway could not complete the request. Quote the error_id when reporting it.",
        extra={"error_id": error_id},
    )


def handle_exception(exc: Exception) -> Response:
    """The application's one error handler: Werkzeug's HTTP errors, then the table."""
    if isinstance(exc, HTTPException):
        return from_http_exception(exc)
    answer = answer_of(exc)
    if answer is None:
        return internal_error(exc)
    if answer.status >= 500:
        log.warning("%s: %s", answer.code, type(exc).__name__)
    return from_answer(answer)


def register(app: Flask) -> None:
    app.register_error_handler(Exception, handle_exception)
