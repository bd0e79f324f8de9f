"""CPU time that a benchmark's servers spend per request, read from ``/proc`` (issue 23).

Throughput on a shared two-core machine swings by a third from minute to minute (the bare
endpoint alone measured 700 to 1,130 inserts/s in one half hour), so a change of a few percent
in what a send costs cannot be seen in requests per second. The CPU seconds the serving
processes consume while a fixed number of requests is answered at a moderate rate hardly
depend on what else the machine does: the kernel books each process's own time. Counted are
the gunicorn master and workers (one process group, :func:`bench.support.start_gunicorn`
starts each server in a session of its own) and every PostgreSQL process (the postmaster's
backends, WAL writer, checkpointer: a send's statements cost there too). On SQLite the second
figure is about zero: the database runs inside the workers.

Linux only; where ``/proc`` is missing the meter reports nothing rather than a wrong figure.
"""

from __future__ import annotations

import os
from pathlib import Path

_PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _processes():
    """(command name, process group, CPU seconds) of every process that can be read."""
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it ended while we looked
            continue
        # "pid (comm) state ppid pgrp ... utime stime": comm may hold spaces and parentheses
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        yield name, int(fields[2]), (int(fields[11]) + int(fields[12])) / _TICKS


def snapshot(process_group: int) -> dict[str, float]:
    """CPU seconds so far of the server in ``process_group`` and of PostgreSQL's processes."""
    server = postgres = 0.0
    for name, group, seconds in _processes():
        if group == process_group:
            server += seconds
        elif name == "postgres" or name.startswith("postgres:"):
            postgres += seconds
    return {"server": server, "postgres": postgres}


class Meter:
    """``start()`` before the counted requests, ``stop(requests)`` after their answers:
    milliseconds of CPU per request, the server's and PostgreSQL's."""

    def __init__(self, process_group: int) -> None:
        self.process_group = process_group
        self.available = _PROC.is_dir()
        self._start: dict[str, float] | None = None
        self.per_request_ms: dict[str, float] | None = None

    def start(self) -> None:
        if self.available:
            self._start = snapshot(self.process_group)

    def stop(self, requests: int) -> None:
        if self._start is None or requests <= 0:
            return
        end = snapshot(self.process_group)
        self.per_request_ms = {
            key: round((end[key] - self._start[key]) * 1000 / requests, 3) for key in end
        }
        self.per_request_ms["total"] = round(sum(self.per_request_ms.values()), 3)
