"""The failures the gateway answers as problems: each a class with its stable ``code`` and
HTTP ``status`` (API.md section 1).

Plain Python, below the HTTP layer, so that every service can raise them;
:mod:`gateway.errors` is the one table that turns these and the domain packages' own
exceptions into ``application/problem+json``.
"""

from __future__ import annotations

from collections.abc import Mapping


class GatewayError(Exception):
    """Base of the errors that handlers raise; ``status`` and ``code`` make the answer."""

    status = 400
    code = "bad_request"
    title: str | None = None

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        errors: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or "")
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.detail = detail
        self.errors = dict(errors) if errors else None
        self.headers = dict(headers) if headers else {}


class InvalidJson(GatewayError):
    status, code = 400, "invalid_json"


class InvalidParameter(GatewayError):
    status, code = 400, "invalid_parameter"


class NotFound(GatewayError):
    status, code = 404, "not_found"


class UnsupportedMediaType(GatewayError):
    status, code = 415, "unsupported_media_type"


class PayloadTooLarge(GatewayError):
    status, code = 413, "payload_too_large"
