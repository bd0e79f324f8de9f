"""The BSN elfproef for the schemas: the same rule as ``pseudonymise`` (one source of truth).

Two implementations once disagreed on BSNs whose weighted sum is 0 (``100000009``): the
schema accepted what the pseudonymiser then refused, a 500. The schemas now ask
``pseudonymise`` (both are domain packages; neither knows the web).
"""

from __future__ import annotations

from pseudonymise.bsn import is_valid_bsn as _is_valid_bsn


def is_valid_bsn(value: object) -> bool:
    """True when ``value`` is a string of nine ASCII digits that passes the elfproef, with a
    weighted sum that is not 0 (``000000000`` and the like are never issued)."""
    return isinstance(value, str) and _is_valid_bsn(value)
