"""``RelayState``: where to go after logging in, honoured only as a path on this site.

Anything else (an absolute URL, ``//host`` which browsers treat as one, a backslash that some
browsers read as a slash, control characters) falls back to the dashboard, so the login
flow cannot be used as an open redirect.
"""

from __future__ import annotations

DEFAULT = "/ui/"
MAX_LENGTH = 1000


def safe_path(value: str | None, default: str = DEFAULT) -> str:
    """``value`` when it is a local path (one leading ``/``, not ``//``), else ``default``."""
    if not value or len(value) > MAX_LENGTH:
        return default
    if not value.startswith("/") or value.startswith("//"):
        return default
    if "\\" in value or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in value):
        return default
    return value
