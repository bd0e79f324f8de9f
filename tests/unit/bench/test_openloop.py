"""bench/openloop.py against a real local HTTP server: every request is sent, warm-up requests
are sent first at the same rate and are not counted (issue 23: after the other endpoint's
flat-out run the first requests met a cold server and alone filled the p99)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench import openloop


class _Counting(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[str] = []

    def do_GET(self):  # noqa: N802 - the http.server hook
        self.seen.append(self.path)
        status = 200 if self.path.startswith("/counted") else 204
        self.send_response(status)
        self.send_header("Content-Length", "2" if status == 200 else "0")
        self.end_headers()
        if status == 200:
            self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def test_warm_up_requests_are_sent_first_and_not_counted():
    _Counting.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        def request(i: int) -> bytes:
            path = f"/counted/{i}" if i < 20 else f"/warm/{i}"
            return openloop.http_request("GET", path, {})

        result = openloop.run("127.0.0.1", server.server_address[1], request, rate=100,
                              seconds=0.2, warmup=0.1)
    finally:
        server.shutdown()
        server.server_close()
    assert result["sent"] == 20 and result["ok"] == 20 and result["statuses"] == {"200": 20}
    assert sorted(_Counting.seen[:10]) == sorted(f"/warm/{i}" for i in range(20, 30))
    assert len(_Counting.seen) == 30
    assert result["p50_ms"] is not None and result["p50_ms"] >= 0
