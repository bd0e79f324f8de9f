"""W3C Trace Context as the gateway reads it (gateway/telemetry.py): a valid ``traceparent``
becomes the caller's operation, anything invalid is ignored (a new trace, never a 4xx)."""

from __future__ import annotations

import pytest

from gateway import telemetry
from gateway.telemetry import Remote, Trace, parse_traceparent

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"


def test_a_valid_traceparent_is_the_callers_operation():
    assert parse_traceparent(f"00-{TRACE}-{SPAN}-01") == Remote(TRACE, SPAN)
    assert parse_traceparent(f"00-{TRACE}-{SPAN}-00") == Remote(TRACE, SPAN)  # not sampled


def test_a_later_version_may_carry_more_fields():
    assert parse_traceparent(f"01-{TRACE}-{SPAN}-01-what-comes-next") == Remote(TRACE, SPAN)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        f"ff-{TRACE}-{SPAN}-01",  # version ff is invalid
        f"00-{TRACE}-{SPAN}-01-extra",  # version 00 has exactly four fields
        f"00-{'0' * 32}-{SPAN}-01",  # all-zero trace id
        f"00-{TRACE}-{'0' * 16}-01",  # all-zero span id
        f"00-{TRACE.upper()}-{SPAN}-01",  # upper-case hex
        f"00-{TRACE[:-1]}-{SPAN}-01",  # short trace id
        f"00-{TRACE}-{SPAN}",  # no flags
        f"00-{TRACE}-{SPAN}-01" + "x" * 600,  # far too long
    ],
)
def test_an_invalid_traceparent_is_ignored(header):
    assert parse_traceparent(header) is None


def test_a_trace_is_the_gateways_own_and_names_itself_in_a_traceparent():
    trace = Trace(foreign=Remote(TRACE, SPAN))
    assert trace.trace_id != TRACE and len(trace.trace_id) == 32 and len(trace.span_id) == 16
    assert trace.traceparent() == f"00-{trace.trace_id}-{trace.span_id}-01"
    assert TRACE not in trace.traceparent()


def test_the_second_processing_of_a_request_gets_a_trace_of_its_own():
    request = Trace(foreign=Remote(TRACE, SPAN), caller="00000001001234567000")
    first, second, third = request.next(), request.next(), request.next()
    assert first is request and first.in_request
    assert len({first.trace_id, second.trace_id, third.trace_id}) == 3
    assert second.foreign == third.foreign == Remote(TRACE, SPAN)
    assert second.caller == "00000001001234567000"
    assert not second.in_request and second.started_ns == request.started_ns


def test_the_current_trace_is_set_for_a_block_only():
    assert telemetry.current() is None
    trace = Trace()
    with telemetry.using(trace):
        assert telemetry.current() is trace
    assert telemetry.current() is None


def test_a_fault_is_raised_only_where_it_was_asked_for():
    token = telemetry.request_fault("exchange.send")
    try:
        telemetry.injected_fault("somewhere.else")
        with pytest.raises(telemetry.InjectedFault):
            telemetry.injected_fault("exchange.send")
    finally:
        telemetry.clear_fault(token)
    telemetry.injected_fault("exchange.send")  # no longer asked for
    token = telemetry.request_fault("not.a.point")
    try:
        telemetry.injected_fault("exchange.send")
    finally:
        telemetry.clear_fault(token)


def test_span_names_are_code_names_only():
    assert telemetry._safe_name("POST /api/v1/exchanges/<exchange_id>") == (
        "POST /api/v1/exchanges/<exchange_id>"
    )
    assert telemetry._safe_name("pipeline.subject") == "pipeline.subject"
    assert telemetry._safe_name("/api/v1/inbox/<exchange_id>/ack") == (
        "/api/v1/inbox/<exchange_id>/ack"
    )
    assert telemetry._safe_name("/api/v1/exchanges?bsn=111222333") == "operation"
    assert telemetry._safe_name('POST /x?bsn=111222333"') == "operation"
