"""An open-loop HTTP load generator: requests leave at a constant rate, whatever the answers do.

wrk (like bench_exchanges.py's threads) is closed-loop: a connection sends its next request
only after the previous answer, so a server that stalls is sent less and the stall hides
from the latency figures (coordinated omission, Gil Tene's "How NOT to measure latency"). At a
fixed rate the latency that matters is the one a caller arriving on schedule sees. Here, as in
wrk2 and YCSB's corrected mode, request ``i`` is *intended* at ``start + i / rate`` and its
latency is counted from that intended moment to the last byte of the answer, so time spent
queued behind a slow answer (or waiting for a connection) is counted too. A request never
waits for another: it takes an idle keep-alive connection or opens a new one.

Why not wrk's Lua ``delay()``: it paces each connection, but wrk still times a request from
its actual send, after the previous answer on that connection (closed-loop again), and wrk
4.1's Lua has no clock to record the intended time. wrk2 (``-R``) and vegeta do it right but
are not Debian packages here. At 50-150 requests/s this generator costs a few percent of one
core; ``late_ms_p99`` in its answer says how far behind schedule it ever ran (it must stay well
under the latencies it reports for them to mean anything).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

# an answer later than this counts as a failure (its connection is dropped)
TIMEOUT_SECONDS = 60.0
# a kept-alive connection idle this long is not reused: gunicorn closes idle ones after 5 s
# (gateway/gunicorn_conf.py), and a request written as it closes fails
IDLE_SECONDS = 3.0


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Read one HTTP/1.1 response (Content-Length framed, as Flask and gunicorn answer)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return status, body


class _Pool:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self.opened = 0

    async def take(self):
        while self.idle:
            reader, writer, since = self.idle.pop()
            if time.perf_counter() - since < IDLE_SECONDS:
                return reader, writer
            writer.close()  # the server may be closing it right now (its keep-alive timeout)
        self.opened += 1
        return await asyncio.open_connection(self.host, self.port)

    def give(self, connection) -> None:
        reader, writer = connection
        self.idle.append((reader, writer, time.perf_counter()))

    def close(self) -> None:
        for _, writer, _ in self.idle:
            writer.close()
        self.idle.clear()


def _percentile(ordered: list[float], fraction: float) -> float | None:
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


async def _run(
    host: str,
    port: int,
    make_request: Callable[[int], bytes],
    rate: float,
    seconds: float,
    prewarm: int,
    warmup: float,
    on_answer: Callable[[int, bytes], None] | None,
    meter=None,
) -> dict:
    pool = _Pool(host, port)
    for _ in range(prewarm):
        pool.give(await asyncio.open_connection(host, port))
    latencies: list[float] = []
    late: list[float] = []
    statuses: dict[int, int] = {}
    failures = 0
    total = int(rate * seconds)
    requests = [make_request(i) for i in range(total)]  # built before the clock starts
    warming = [make_request(total + i) for i in range(int(rate * warmup))]

    async def one(raw: bytes, intended: float, counted: bool = True) -> None:
        nonlocal failures
        try:
            reader, writer = await pool.take()
            writer.write(raw)
            await writer.drain()
            status, body = await asyncio.wait_for(_read_response(reader), TIMEOUT_SECONDS)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            failures += counted
            return
        if counted:
            latencies.append(time.perf_counter() - intended)
            statuses[status] = statuses.get(status, 0) + 1
            if on_answer is not None:
                on_answer(status, body)
        pool.give((reader, writer))

    async def send(batch: list[bytes], counted: bool) -> float:
        tasks = []
        start = time.perf_counter() + 0.05
        for i, raw in enumerate(batch):
            intended = start + i / rate
            pause = intended - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)
            if counted:
                late.append(max(0.0, time.perf_counter() - intended))
            tasks.append(asyncio.ensure_future(one(raw, intended, counted)))
        await asyncio.gather(*tasks)
        return start

    # the warm-up: the same rate, not counted. A server that just ran the other endpoint's
    # flat-out wrk run (or sat idle) starts cold: idle pooled connections are pinged, the
    # first requests of a thread build what they cache; those few would fill the p99 alone.
    await send(warming, counted=False)
    if meter is not None:
        meter.start()
    start = await send(requests, counted=True)
    elapsed = time.perf_counter() - start
    if meter is not None:
        meter.stop(total)
    pool.close()
    latencies.sort()
    late.sort()
    ok = sum(count for status, count in statuses.items() if 200 <= status < 300)
    return {
        "rate_per_s": rate,
        "sent": total,
        "ok": ok,
        "errors": total - ok,
        "failures": failures,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "achieved_per_s": round(ok / elapsed, 1) if elapsed else None,
        "connections": pool.opened + prewarm,
        "p50_ms": _ms(_percentile(latencies, 0.50)),
        "p90_ms": _ms(_percentile(latencies, 0.90)),
        "p99_ms": _ms(_percentile(latencies, 0.99)),
        "max_ms": _ms(latencies[-1] if latencies else None),
        "late_ms_p99": _ms(_percentile(late, 0.99)),
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def run(
    host: str,
    port: int,
    make_request: Callable[[int], bytes],
    rate: float,
    seconds: float,
    prewarm: int = 8,
    warmup: float = 0.0,
    on_answer: Callable[[int, bytes], None] | None = None,
    meter=None,
) -> dict:
    """Send ``rate * seconds`` requests (``make_request(i)``: raw HTTP/1.1 bytes) at ``rate``
    per second, open-loop; latency percentiles counted from each request's intended time.
    First ``rate * warmup`` requests (``make_request(total + i)``) at the same rate, not
    counted. ``on_answer(status, body)`` is called for each counted answer. ``meter``
    (:class:`bench.cpu.Meter`) is started before the counted requests and stopped with their
    number once every answer is in."""
    return asyncio.run(
        _run(host, port, make_request, rate, seconds, prewarm, warmup, on_answer, meter)
    )


def http_request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    """Raw HTTP/1.1 request bytes (keep-alive) for :func:`run`."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
