"""Fuzz the strict JSON parser (``gateway.strictjson.loads``), the first thing every API body meets.

Checks, for every input: ``loads`` either returns or raises ``InvalidJsonError`` (never a
``RecursionError``, ``UnicodeDecodeError`` or anything else that would become a 500); and what
it accepts obeys API.md section 1: a JSON object, no duplicate keys, no ``NaN``/``Infinity``, at
most 32 nested containers, and the same value that Python's own parser reads (strict JSON is a
subset of JSON, never a different reading of it). The ``str`` entry point must agree with the
``bytes`` one.
"""

from __future__ import annotations

import json
import math

from harness import FuzzTarget, instrumented, main

with instrumented("gateway"):
    from gateway.strictjson import MAX_DEPTH, InvalidJsonError, loads


def depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def finite(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(finite(v) for v in value.values())
    if isinstance(value, list):
        return all(finite(v) for v in value)
    return True


def no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys)), "strict parser accepted a duplicate key"
    return dict(pairs)


def check(data: bytes) -> None:
    try:
        value = loads(data)
    except InvalidJsonError as refused:
        assert refused.code == "invalid_json"
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return
        try:
            loads(text)
        except InvalidJsonError:
            return
        raise AssertionError("bytes refused but the same text accepted") from None
    assert isinstance(value, dict), "the top level must be an object"
    assert depth(value) <= MAX_DEPTH, "nesting deeper than the limit was accepted"
    assert finite(value), "NaN or Infinity was accepted"
    text = data.decode("utf-8")
    reference = json.loads(text, object_pairs_hook=no_duplicate_keys)
    assert reference == value, "strict parser read a different value than json.loads"
    assert loads(text) == value, "str and bytes inputs disagree"
    json.dumps(value, allow_nan=False)


TARGET = FuzzTarget("strictjson", check, expected=(InvalidJsonError,), max_len=8192)

if __name__ == "__main__":
    main(TARGET)
