"""Reading an API request body the way API.md section 1 says, after authentication ran.

The order matters (API.md section 4): token and scope are checked by the resource protector
first, then content type (415), size (413), strict JSON (400 ``invalid_json``) and the
``Fsc-Transaction-Id`` syntax (400 ``invalid_parameter``).
"""

from __future__ import annotations

from flask import current_app, g, request

from ..problems import InvalidJson, InvalidParameter, PayloadTooLarge, UnsupportedMediaType
from ..strictjson import InvalidJsonError, loads


def _is_json(mimetype: str) -> bool:
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


def check_transaction_id() -> None:
    if not g.get("fsc_transaction_id_valid", True):
        raise InvalidParameter(
            "Fsc-Transaction-Id must be a UUID",
            errors={"Fsc-Transaction-Id": ["must be a UUID"]},
        )


def _declares_no_body() -> bool:
    """No ``Content-Length`` (or 0) and not chunked: the request has no body to read."""
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    return not chunked and not request.content_length


def _read_body(limit: int) -> bytes:
    """The body, or its first ``limit + 1`` bytes when it is longer.

    A chunked body has no declared length: read from the server's stream (which ends it at
    the last chunk: ``wsgi.input_terminated``) one byte past the limit, so that "exactly the
    limit" and "more" differ. (Werkzeug's bounded stream returns the first ``limit`` bytes
    silently, which then fail as truncated JSON: a 400 where API.md says 413.)
    """
    if request.content_length is not None:
        return request.get_data(cache=True)
    if not request.environ.get("wsgi.input_terminated"):
        return b""  # a server that cannot end a stream of unknown length: no body (as werkzeug)
    stream = request.environ["wsgi.input"]
    parts, size = [], 0
    while size <= limit:
        part = stream.read(limit + 1 - size)
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def json_body(*, optional: bool = False) -> dict:
    """The request's JSON object; ``optional`` bodies may be empty (treated as ``{}``).

    Content type before size (API.md section 4 step 3): the type is in the headers, so a
    sender of 300 KiB of text learns what to fix first. The declared size is refused before
    any byte is read; a chunked body is read up to the limit and refused there (413). What is
    left of a refused body is discarded by :mod:`gateway.http` before the 413 goes out.
    """
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    too_large = f"The body is larger than {limit // 1024} KiB."
    if _declares_no_body():
        if optional:
            check_transaction_id()
            return {}
        if not _is_json(request.mimetype):
            raise UnsupportedMediaType("Send the body as application/json.")
        raise InvalidJson("The body is empty; send a JSON object.")
    if not _is_json(request.mimetype):
        raise UnsupportedMediaType("Send the body as application/json.")
    length = request.content_length
    if length is not None and length > limit:
        raise PayloadTooLarge(too_large)
    raw = _read_body(limit)
    if len(raw) > limit:
        raise PayloadTooLarge(too_large)
    if not raw:
        if optional:
            check_transaction_id()
            return {}
        raise InvalidJson("The body is empty; send a JSON object.")
    try:
        body = loads(raw)
    except InvalidJsonError as exc:
        raise InvalidJson(str(exc)) from None
    check_transaction_id()
    return body  # type: ignore[return-value]
