"""Reading an API request body the way API.md section 1 says, after authentication ran.

The order matters (API.md section 4): token and scope are checked by the resource protector
first, then content type (415), size (413), strict JSON (400 ``invalid_json``) and the
``Fsc-Transaction-Id`` syntax (400 ``invalid_parameter``).
"""

from __future__ import annotations

from flask import current_app, g, request

from ..errors import InvalidJson, InvalidParameter, PayloadTooLarge, UnsupportedMediaType
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


def json_body(*, optional: bool = False) -> dict:
    """The request's JSON object; ``optional`` bodies may be empty (treated as ``{}``)."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    length = request.content_length
    if length is not None and length > limit:
        raise PayloadTooLarge(f"The body is larger than {limit // 1024} KiB.")
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise PayloadTooLarge(f"The body is larger than {limit // 1024} KiB.")
    if not raw:
        if optional:
            check_transaction_id()
            return {}
        if not _is_json(request.mimetype):
            raise UnsupportedMediaType("Send the body as application/json.")
        raise InvalidJson("The body is empty; send a JSON object.")
    if not _is_json(request.mimetype):
        raise UnsupportedMediaType("Send the body as application/json.")
    try:
        body = loads(raw)
    except InvalidJsonError as exc:
        raise InvalidJson(str(exc)) from None
    check_transaction_id()
    return body  # type: ignore[return-value]
