"""The gateway's gunicorn worker serves an expiring kept-alive connection that already has a
request on it, instead of closing it (which the kernel turns into a reset for the client).

Real gunicorn classes and real sockets (a socketpair per connection). The thread pool is the
one thing replaced: ``enqueue_req`` records the connection instead of running the app, since
what is tested is the event loop's choice, and the e2e test
``tests/e2e/test_wire_contract.py::test_every_request_on_reused_connections_gets_an_answer``
drives the whole worker under gunicorn.
"""

from __future__ import annotations

import selectors
import socket
import time
from collections import deque

import pytest
from gunicorn.config import Config
from gunicorn.workers.gthread import TConn, ThreadWorker

from gateway import gunicorn_conf
from gateway.gunicorn_worker import GatewayThreadWorker, request_waiting


def loop_of(worker_class):
    """A worker with only the parts its keep-alive bookkeeping uses."""
    worker = object.__new__(worker_class)
    worker.keepalived_conns = deque()
    worker.poller = selectors.DefaultSelector()
    worker.nr_conns = 0
    worker.served = []
    worker.enqueue_req = worker.served.append
    return worker


def kept_alive(worker, *, expired: bool):
    """A connection parked by the worker after its last answer, and the client's end."""
    server_end, client_end = socket.socketpair()
    conn = TConn(Config(), server_end, ("127.0.0.1", 50000), ("127.0.0.1", 8000))
    conn.timeout = time.monotonic() + (-0.01 if expired else 60)
    worker.keepalived_conns.append(conn)
    worker.poller.register(server_end, selectors.EVENT_READ, None)
    worker.nr_conns += 1
    return conn, client_end


REQUEST = b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n"


def closed(conn) -> bool:
    return conn.sock.fileno() == -1


def test_the_stock_worker_drops_a_request_that_arrived_as_the_connection_expired():
    """The defect, on gunicorn's own class: the request is closed unread (a reset)."""
    worker = loop_of(ThreadWorker)
    conn, client = kept_alive(worker, expired=True)
    client.sendall(REQUEST)
    worker.murder_keepalived()
    assert closed(conn) and worker.served == []


def test_a_request_waiting_on_an_expired_connection_is_served():
    worker = loop_of(GatewayThreadWorker)
    conn, client = kept_alive(worker, expired=True)
    client.sendall(REQUEST)
    worker.murder_keepalived()
    assert worker.served == [conn] and not closed(conn)
    assert conn not in worker.keepalived_conns
    with pytest.raises(KeyError):
        worker.poller.get_key(conn.sock)  # the pool owns it now, not the poller
    assert conn.sock.recv(len(REQUEST)) == REQUEST  # the peek left the bytes for the parser


def test_idle_and_hung_up_connections_still_expire_and_fresh_ones_stay():
    worker = loop_of(GatewayThreadWorker)
    idle, _idle_client = kept_alive(worker, expired=True)
    gone, gone_client = kept_alive(worker, expired=True)
    gone_client.close()
    fresh, fresh_client = kept_alive(worker, expired=False)
    fresh_client.sendall(REQUEST)  # not expired: the poll serves it, not the murder
    worker.murder_keepalived()
    assert closed(idle) and closed(gone) and not closed(fresh)
    assert worker.served == [] and list(worker.keepalived_conns) == [fresh]
    assert worker.nr_conns == 1


def test_shutting_down_closes_everything_as_before():
    worker = loop_of(GatewayThreadWorker)
    conn, client = kept_alive(worker, expired=False)
    client.sendall(REQUEST)
    worker.murder_keepalived(force=True)
    assert closed(conn) and worker.served == []


def test_request_waiting_reads_nothing():
    left, right = socket.socketpair()
    with left, right:
        assert not request_waiting(left)
        right.sendall(b"x")
        assert request_waiting(left) and request_waiting(left)
        assert left.recv(1) == b"x"


def test_the_server_configuration_uses_this_worker():
    config = Config()
    config.set("worker_class", gunicorn_conf.worker_class)
    config.set("threads", gunicorn_conf.threads)
    assert config.worker_class is GatewayThreadWorker
