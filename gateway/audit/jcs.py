"""RFC 8785 (JCS) canonical JSON, fast for the documents the audit log writes.

The ``rfc8785`` package serialises in pure Python: about a tenth of an audit append's CPU on
the send path (issue 23, docs/performance.md). For a *plain* document the C encoder of the
standard library writes the very same bytes, so :func:`dumps` uses it when it can prove the
document plain and ``rfc8785`` otherwise. Plain means:

- objects with ASCII string keys (Python sorts keys by code point, JCS by UTF-16 code unit;
  the two orders agree on ASCII),
- strings without lone surrogates (JCS escapes them; Python would write them raw), escaped
  alike otherwise: ``\\"`` ``\\\\`` ``\\b`` ``\\f`` ``\\n`` ``\\r`` ``\\t`` and ``\\u00xx``
  (lower-case hex) for the other control characters, everything else as itself,
- integers within +-(2**53 - 1) (JCS numbers are doubles: larger ones print differently),
  booleans, null, lists; no floats, no tuples, no other types.

The check is one walk over the document; tests/unit/gateway/audit/test_audit_jcs.py compares
both on generated documents.
"""

from __future__ import annotations

import json
import re

import rfc8785

_SAFE_INT = 2**53 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True,
                           check_circular=False, allow_nan=False).encode


def dumps(document) -> bytes:
    """The canonical UTF-8 bytes of ``document`` (what ``rfc8785.dumps`` returns)."""
    if _plain(document):
        return _encode(document).encode("utf-8")
    return rfc8785.dumps(document)


def _plain(value) -> bool:
    kind = type(value)
    if kind is str:
        return _SURROGATE.search(value) is None
    if kind is dict:
        for key, member in value.items():
            if type(key) is not str or not key.isascii() or _SURROGATE.search(key):
                return False
            if not _plain(member):
                return False
        return True
    if kind is int:
        return -_SAFE_INT <= value <= _SAFE_INT
    if value is None or kind is bool:
        return True
    if kind is list:
        return all(_plain(member) for member in value)
    return False
