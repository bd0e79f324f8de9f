"""Reading the gateway's answers: JSON bodies, problem+json and OAuth errors, expired tokens."""

from __future__ import annotations

from typing import Any

import requests

from thuiszitterspact_client.errors import GatewayError


def json_body(response: requests.Response) -> Any:
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError:
        raise GatewayError(
            response.status_code, "invalid_response", "The gateway's answer is not JSON."
        ) from None


def is_invalid_token(response: requests.Response) -> bool:
    if response.status_code != 401:
        return False
    if 'error="invalid_token"' in response.headers.get("WWW-Authenticate", ""):
        return True
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("code") == "invalid_token"


def error_of(response: requests.Response) -> GatewayError:
    """A problem+json answer, an OAuth error answer, or anything else, as a GatewayError."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        errors = body.get("errors")
        return GatewayError(
            status,
            body["code"],
            body.get("detail") if isinstance(body.get("detail"), str) else None,
            errors if isinstance(errors, dict) else None,
        )
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        description = body.get("error_description")
        return GatewayError(
            status, body["error"], description if isinstance(description, str) else None
        )
    return GatewayError(status, f"http_{status}", response.reason or None)
