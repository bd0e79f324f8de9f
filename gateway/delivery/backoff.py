"""When to try a failed push again: exponential backoff with jitter.

The n-th failed attempt waits ``base * 2**(n-1)`` seconds (``GATEWAY_DELIVERY_BACKOFF_SECONDS``
is the first retry delay), capped, and multiplied by a random factor in [0.8, 1.2] so that
messages which failed together (a recipient that was down) do not all come back at once.
"""

from __future__ import annotations

import random
from collections.abc import Callable

MAX_DELAY_SECONDS = 3600.0
JITTER = 0.2


def retry_delay(
    failed_attempts: int,
    base_seconds: float,
    uniform: Callable[[float, float], float] = random.uniform,
) -> float:
    """Seconds to wait after ``failed_attempts`` (>= 1) failed attempts."""
    if failed_attempts < 1:
        raise ValueError("failed_attempts starts at 1")
    nominal = min(base_seconds * 2 ** min(failed_attempts - 1, 32), MAX_DELAY_SECONDS)
    return nominal * uniform(1 - JITTER, 1 + JITTER)
