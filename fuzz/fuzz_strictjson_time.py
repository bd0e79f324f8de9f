"""Fuzz the strict JSON parser for time: no input may cost more than linear time.

``gateway.strictjson.loads`` is the first thing every partner's body meets, in a gunicorn
gthread worker whose threads (and heartbeat) share one GIL: a body that costs O(n^2) freezes
the worker. The other strictjson target checks *what* the parser answers; this one checks *how
long* it takes, which is the oracle here: an input "crashes" when parsing it takes more than a
linear budget (``FLOOR_SECONDS + SECONDS_PER_BYTE * len``).

The fuzzer's inputs are short (libFuzzer grows them slowly; ``max_len`` 4096), and a quadratic
cost hides in short inputs. So each input is also *pumped*, the way regular-expression
denial-of-service is shown: the input repeated, and the input with its last 1 to 4 bytes
repeated, each about ``PUMPED_BYTES`` long (16 KiB, well inside the 256 KiB body limit). A
linear parser pays well under a millisecond for any of them; a quadratic one pays half a
second for the pumps of a short input such as ``{"a": "x\\"`` (its tail ``\\"`` repeated is an
unterminated run of escaped quotes: the bug of issue 16, in the regex pre-scan of f716d0b).

Time is also fed back to the fuzzer, as PerfFuzz and SlowFuzz do: the slowest variant's share
of its budget falls into one of six buckets (1/64 .. 1/2), each a branch of an instrumented
function, so an input slower than any before it is new coverage and kept in the corpus, and
the fuzzer climbs towards slow inputs instead of meeting them by chance.

A measurement over budget is repeated (the best of ``TRIES``) before it counts, so that a
pause of the machine (garbage collection, another process) is not reported as a bug.
"""

from __future__ import annotations

import time

from harness import FuzzTarget, atheris, instrumented, main

with instrumented("gateway"):
    from gateway.strictjson import InvalidJsonError, loads

PUMPED_BYTES = 16 * 1024
FLOOR_SECONDS = 0.05
SECONDS_PER_BYTE = 2e-6  # 2 s per MiB: 30x what the linear parser needs, instrumented
TRIES = 3


class TooSlow(AssertionError):
    """Parsing took more than linear time; the message says how long, for which variant."""


def budget(size: int) -> float:
    return FLOOR_SECONDS + SECONDS_PER_BYTE * size


def pumped(data: bytes) -> list[tuple[str, bytes]]:
    """``data`` repeated, and ``data`` with its tail repeated, each about PUMPED_BYTES long."""
    if not data:
        return []
    variants = [("whole", data * max(1, PUMPED_BYTES // len(data)))]
    for tail in range(1, 5):
        if len(data) > tail:
            head, pump = data[:-tail], data[-tail:]
            variants.append((f"tail{tail}", head + pump * (PUMPED_BYTES // tail)))
    return variants


def elapsed(data: bytes) -> float:
    started = time.perf_counter()
    try:
        loads(data)
    except InvalidJsonError:
        pass
    return time.perf_counter() - started


def slowness(share: float) -> int:
    """The bucket of ``share`` (time / budget): 0 below 1/64, then one more per doubling."""
    bucket = 0
    if share >= 1 / 64:
        bucket = 1
        if share >= 1 / 32:
            bucket = 2
            if share >= 1 / 16:
                bucket = 3
                if share >= 1 / 8:
                    bucket = 4
                    if share >= 1 / 4:
                        bucket = 5
                        if share >= 1 / 2:
                            bucket = 6
    return bucket


if atheris is not None:  # each bucket is a branch libFuzzer sees as coverage
    slowness = atheris.instrument_func(slowness)


def check(data: bytes) -> None:
    share = 0.0
    for name, variant in [("input", data), *pumped(data)]:
        allowed = budget(len(variant))
        took = elapsed(variant)
        share = max(share, took / allowed)
        if took <= allowed:
            continue
        best = min(elapsed(variant) for _ in range(TRIES))
        if best > allowed:
            raise TooSlow(
                f"{name} of {len(variant)} bytes took {best:.3f} s "
                f"(linear budget {allowed:.3f} s); input prefix {data[:48]!r}"
            )
    slowness(share)


TARGET = FuzzTarget("strictjson_time", check, expected=(), max_len=4096)

if __name__ == "__main__":
    main(TARGET)
