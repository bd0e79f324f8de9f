"""The reference recipient's listening socket takes a worker's pool connecting at once.

A worker opens one keep-alive connection per push thread (8 by default, two workers 16), all
in the same moment. The standard library's ``ThreadingHTTPServer`` listens with a backlog of
5: while its accept loop is busy the kernel drops the handshakes beyond that, the client
retries after a second, and a push's timeout (2 s in the reliability tests) can run out first.
"""

from __future__ import annotations

import socket

from gateway.delivery.recipient import Recipient, RecipientServer, handler_for


def test_forty_connections_complete_their_handshake_before_the_server_accepts_any():
    server = RecipientServer(("127.0.0.1", 0), handler_for(Recipient(None)))
    clients: list[socket.socket] = []
    try:  # serve_forever is not running: nothing is accepted, the backlog holds them all
        for _ in range(40):
            client = socket.create_connection(server.server_address, timeout=0.5)
            clients.append(client)
        assert len(clients) == 40
    finally:
        for client in clients:
            client.close()
        server.server_close()
