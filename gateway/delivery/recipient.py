"""A reference push recipient for development, tests, benchmarks and drills.

It does what API.md asks of a real recipient: verify ``Gateway-Signature`` against the
gateway's published ``/oauth/jwks`` (fetched again when an unknown ``kid`` appears, so key
rotation needs nothing) as the organisation ``--oin`` (a push key, ``typ``, ``aud`` = that OIN,
a recent ``iat``: :func:`gateway.delivery.signing.verify`), and deduplicate on the item's
``id`` (delivery is at least once). It answers 2xx once a message is taken in, 401 on a bad
signature.

For drills it can misbehave on request (``POST /_control`` with JSON): ``status`` (answer this
instead of 200), ``fail_first`` (the first N attempts of each id get 500), ``delay`` seconds
before answering (``slow_first``: only the first N attempts of each id). ``GET /_stats`` shows
what arrived (``/_count`` just the counts), ``GET /_requests/<id>`` the last raw request of an
id (body base64, headers). Development only: it keeps everything in memory and has no
authentication of its own.

    python -m gateway.delivery.recipient --port 8081 --oin 00000001234567890000 \
        --jwks http://127.0.0.1:8000/oauth/jwks

(``--jwks-file`` instead reads a fixed JWKS; without either, signatures are not checked.)
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
from joserfc.errors import JoseError

from .signing import verify


class Recipient:
    """What arrived, the drill settings, and the gateway's keys."""

    def __init__(
        self, jwks_url: str | None, jwks: dict | None = None, oin: str | None = None
    ) -> None:
        if (jwks_url or jwks is not None) and not oin:
            raise ValueError("checking signatures needs the recipient's own OIN")
        self.oin = oin
        self.jwks_url = jwks_url
        self.fixed_jwks = jwks is not None
        self.jwks: dict = jwks or {"keys": []}
        self.lock = threading.Lock()
        self.control = {"status": 200, "fail_first": 0, "delay": 0.0, "slow_first": 0}
        self.attempts: list[dict] = []
        self.tries: dict[str, int] = {}
        self.seen: list[str] = []
        self.seen_set: set[str] = set()
        self.received = 0
        self.bad_signatures = 0
        self.in_flight = 0
        self.last_request: dict[str, dict] = {}

    def check_signature(self, signature: str, body: bytes) -> bool:
        """True when valid; raises ``requests.RequestException`` when the keys cannot be
        fetched (the handler answers 503: the gateway should try again later)."""
        if not self.jwks_url and not self.fixed_jwks:
            return True
        for refresh in (False, True):
            if refresh and self.fixed_jwks:
                break
            if refresh:
                answer = requests.get(self.jwks_url, timeout=5)
                answer.raise_for_status()
                self.jwks = answer.json()
            try:
                verify(signature, body, self.jwks, recipient=self.oin)
                return True
            except JoseError:
                continue
        return False

    def take(self, message_id: str, headers: dict, body: bytes) -> tuple[int, float]:
        """Record an attempt; return (status to answer, seconds to wait first)."""
        with self.lock:
            control = dict(self.control)
            tries = self.tries[message_id] = self.tries.get(message_id, 0) + 1
            status = control["status"]
            if tries <= control["fail_first"]:
                status = 500
            slow = control["slow_first"]
            delay = control["delay"] if not slow or tries <= slow else 0.0
            self.attempts.append(
                {"id": message_id, "at": time.time(), "status": status, "try": tries}
            )
            self.last_request[message_id] = {
                "headers": headers,
                "body": base64.b64encode(body).decode(),
            }
            if 200 <= status < 300:
                self.received += 1
                if message_id not in self.seen_set:
                    self.seen_set.add(message_id)
                    self.seen.append(message_id)
        return status, delay

    def stats(self) -> dict:
        with self.lock:
            return {
                "received": self.received,
                "unique": len(self.seen),
                "duplicates": self.received - len(self.seen),
                "ids": list(self.seen),
                "bad_signatures": self.bad_signatures,
                "in_flight": self.in_flight,
                "attempts": list(self.attempts),
            }


class RecipientHandler(BaseHTTPRequestHandler):
    """The HTTP side of a :class:`Recipient`; :func:`handler_for` binds one to a subclass."""

    recipient: Recipient
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once, no delayed-ACK stall

    def log_message(self, *args) -> None:  # quiet: tests read /_stats instead
        pass

    def _answer(self, status: int, document: dict) -> None:
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        if self.path == "/_stats":
            self._answer(200, self.recipient.stats())
        elif self.path == "/_count":
            with self.recipient.lock:
                counts = {"received": self.recipient.received, "unique": len(self.recipient.seen)}
            self._answer(200, counts)
        elif self.path.startswith("/_requests/"):
            found = self.recipient.last_request.get(self.path.rsplit("/", 1)[1])
            self._answer(200 if found else 404, found or {})
        else:
            self._answer(404, {"error": "not_found"})

    def do_POST(self) -> None:
        body = self._body()
        if self.path == "/_control":
            with self.recipient.lock:
                self.recipient.control.update(json.loads(body or b"{}"))
            self._answer(200, self.recipient.control)
            return
        with self.recipient.lock:
            self.recipient.in_flight += 1
        try:
            self._deliver(body)
        finally:
            with self.recipient.lock:
                self.recipient.in_flight -= 1

    def _deliver(self, body: bytes) -> None:
        if not (self.headers.get("Content-Type") or "").startswith("application/json"):
            self._answer(415, {"error": "unsupported_media_type"})
            return
        try:
            valid = self.recipient.check_signature(self.headers.get("Gateway-Signature", ""), body)
        except (requests.RequestException, ValueError):
            self._answer(503, {"error": "keys_unavailable"})
            return
        if not valid:
            with self.recipient.lock:
                self.recipient.bad_signatures += 1
            self._answer(401, {"error": "bad_signature"})
            return
        try:
            message_id = json.loads(body)["id"]
        except (ValueError, KeyError, TypeError):
            self._answer(400, {"error": "invalid_json"})
            return
        headers = {k: v for k, v in self.headers.items()}
        status, delay = self.recipient.take(message_id, headers, body)
        if delay:
            time.sleep(delay)
        self._answer(status, {"id": message_id})


class RecipientServer(ThreadingHTTPServer):
    """One thread per connection, and a listen backlog of a real server's size: the
    standard library's 5 drops the handshakes of a worker's pool connecting at once, and a
    dropped handshake retried after a second can outlast a push's timeout."""

    daemon_threads = True
    request_queue_size = 128


def handler_for(recipient: Recipient) -> type[BaseHTTPRequestHandler]:
    """A handler class for ``ThreadingHTTPServer`` that serves ``recipient``."""
    return type("Handler", (RecipientHandler,), {"recipient": recipient})


def serve(
    port: int, jwks_url: str | None, host: str = "127.0.0.1", oin: str | None = None
) -> ThreadingHTTPServer:
    """A running recipient (in a thread of this process); ``shutdown()`` stops it."""
    server = RecipientServer((host, port), handler_for(Recipient(jwks_url, oin=oin)))
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A reference push recipient (development).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--jwks", default=None, help="The gateway's /oauth/jwks URL.")
    parser.add_argument("--jwks-file", default=None, help="Or the JWKS as a file.")
    parser.add_argument("--oin", default=None, help="This recipient's OIN (with --jwks*).")
    args = parser.parse_args(argv)
    if (args.jwks or args.jwks_file) and not args.oin:
        parser.error("--oin is required to check signatures")
    fixed = json.loads(Path(args.jwks_file).read_text()) if args.jwks_file else None
    recipient = Recipient(args.jwks, fixed, oin=args.oin)
    server = RecipientServer((args.host, args.port), handler_for(recipient))
    print(f"recipient listening on http://{args.host}:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sys.stdout.flush()


if __name__ == "__main__":
    main()
