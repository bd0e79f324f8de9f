"""gunicorn's threaded worker, with one change: an idle connection is not closed while a
request is already waiting on it.

HTTP/1.1 lets either side close an idle kept-alive connection at any time, and a client
that sends on it at that very moment loses its request: the kernel answers the unread
bytes with a reset. gunicorn's ``gthread`` worker closes expired connections in its event
loop, after it has dispatched the events of that round, so a request that arrives between
the poll and the close (a window as wide as one round of callbacks, milliseconds on a busy
machine) is reset although it arrived in time. API.md promises partners an answer to every
request on a reused connection (issue 16: 5,000 requests pausing around the keep-alive
timeout, 5,000 answers); a reset also costs a partner a retry it may not make safely.

So before closing an expired connection the worker peeks at it: bytes waiting mean the
client spoke first, and the connection is served as if the poll had seen it. The window
left is the few microseconds between the peek and the close, which no client can aim at.
Everything else is gunicorn's own (pinned in constraints.txt; the unit test
``tests/unit/gateway/test_gunicorn_worker.py`` runs against the real class with real
sockets and fails when gunicorn's names change).
"""

from __future__ import annotations

import socket
import time
from itertools import takewhile

from gunicorn.workers.gthread import ThreadWorker


def request_waiting(sock: socket.socket) -> bool:
    """Whether the client has sent bytes that nobody read yet (not: has it hung up)."""
    try:
        return bool(sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return False  # reset or gone: closing is right


class GatewayThreadWorker(ThreadWorker):
    """``gthread`` whose keep-alive timeout never drops a request that already arrived."""

    def murder_keepalived(self, force: bool = False) -> None:
        if not force:
            self._serve_late_arrivals()
        super().murder_keepalived(force)

    def _serve_late_arrivals(self) -> None:
        """Hand every expired connection with a request waiting to the thread pool, exactly
        as ``on_client_socket_readable`` would have; the rest expire as usual."""
        now = time.monotonic()
        expired = list(takewhile(lambda conn: conn.timeout <= now, self.keepalived_conns))
        for conn in expired:
            if request_waiting(conn.sock):
                self.on_client_socket_readable(conn, conn.sock)
