"""Exponential backoff with jitter for failed pushes."""

from __future__ import annotations

import random

import pytest

from gateway.delivery.backoff import MAX_DELAY_SECONDS, retry_delay


def fixed(factor):
    return lambda low, high: factor


def test_first_retry_waits_the_configured_delay_then_doubles():
    assert [retry_delay(n, 5, fixed(1.0)) for n in range(1, 6)] == [5, 10, 20, 40, 80]


def test_jitter_stays_within_twenty_percent_and_varies():
    delays = [retry_delay(3, 5) for _ in range(200)]
    assert all(16 <= d <= 24 for d in delays)
    assert len(set(delays)) > 100
    assert min(delays) < 18 and max(delays) > 22


def test_jitter_bounds_are_the_documented_ones():
    assert retry_delay(1, 10, fixed(0.8)) == 8
    seen = []
    retry_delay(1, 10, lambda low, high: seen.append((low, high)) or 1.0)
    assert seen == [(0.8, 1.2)]


def test_delay_is_capped_and_zero_stays_zero():
    assert retry_delay(40, 5, fixed(1.0)) == MAX_DELAY_SECONDS
    assert retry_delay(1000, 5, random.uniform) <= MAX_DELAY_SECONDS * 1.2
    assert retry_delay(4, 0) == 0


def test_attempts_start_at_one():
    with pytest.raises(ValueError):
        retry_delay(0, 5)
