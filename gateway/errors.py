"""Every error the gateway answers, as RFC 9457 problem details with a stable ``code``.

Domain packages raise their own exceptions (each with a ``code``); this module holds the single
table from exception class to HTTP status and turns any of them into ``application/problem+json``.
Unexpected exceptions become a 500 ``internal_error`` with an ``error_id`` that the log also
holds, and never a traceback in the body.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from http import HTTPStatus
from urllib.parse import quote

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

from .problems import GatewayError

log = logging.getLogger(__name__)

PROBLEM_TYPE_PREFIX = "urn:nl:thuiszitterspact:problem:"
PROBLEM_CONTENT_TYPE = "application/problem+json"


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


def domain_status(exc: BaseException) -> int | None:
    """The HTTP status of a domain exception (one table for the whole product)."""
    from schemas.errors import InvalidParameterError, SchemaValidationError

    from .strictjson import InvalidJsonError

    table: list[tuple[type[BaseException], int]] = [
        (InvalidParameterError, 400),
        (SchemaValidationError, 422),
        (InvalidJsonError, 400),
    ]
    for cls, status in table:
        if isinstance(exc, cls):
            return status
    return None


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


def from_gateway_error(exc: GatewayError) -> Response:
    return problem(
        exc.status, exc.code, exc.detail, title=exc.title, errors=exc.errors, headers=exc.headers
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
    if isinstance(exc, GatewayError):
        return from_gateway_error(exc)
    if isinstance(exc, HTTPException):
        return from_http_exception(exc)
    status = domain_status(exc)
    if status is not None:
        return problem(
            status,
            getattr(exc, "code", "bad_request"),
            str(exc) or None,
            errors=getattr(exc, "errors", None),
        )
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, OperationalError | PoolTimeout):
        log.warning("database unavailable: %s", type(exc).__name__)
        return problem(
            503,
            "service_unavailable",
            "The database is unavailable; retry later.",
            headers={"Retry-After": "5"},
        )
    return internal_error(exc)


def register(app: Flask) -> None:
    app.register_error_handler(Exception, handle_exception)
