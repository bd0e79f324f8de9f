"""The contract on the wire (API.md sections 1 and 4), measured from outside a real gunicorn.

Everything here talks to ``gateway run`` (gunicorn, two gthread workers) over TCP, with
``requests`` where an ordinary client shows the problem and with raw sockets where the way the
bytes arrive matters (a body sent slowly, a chunked body, the next request on a kept-alive
connection). Each test is what a partner, or an attacker holding a partner's token, would see.
"""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from gateway import gunicorn_conf
from tests import exchange_helpers as ex
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.partners import register_partners

LIMIT = 256 * 1024
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def server(tmp_path_factory, keys_dir):
    """A server of its own: the attacks below must not slow down other modules' server."""
    instance = tmp_path_factory.mktemp("wire")
    keys = instance / "keys"
    shutil.copytree(keys_dir, keys)
    live = start_server(instance, keys)
    yield live
    stop_server(live.process)


@pytest.fixture(scope="module")
def school(server, tmp_path_factory):
    return register_partners(server, tmp_path_factory.mktemp("wire-partners"))[ex.SCHOOL]


def exchanges_url(server) -> str:
    return f"{server.url}/api/v1/exchanges"


def send_headers(partner, **extra) -> dict:
    return partner.headers(**{"Idempotency-Key": uuid.uuid4().hex, **extra})


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"].startswith(PROBLEM), response.headers
    body = response.json()
    assert body["status"] == status and body["code"] == code, body
    return body


# --- raw HTTP/1.1 over a socket -------------------------------------------------------------

def host_port(server) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


def connect(server, timeout: float = 10) -> socket.socket:
    sock = socket.create_connection(host_port(server), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def request_head(server, method: str, path: str, headers: dict) -> bytes:
    host, port = host_port(server)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Answer:
    def __init__(self, status: int, headers: dict, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        import json

        return json.loads(self.body)


def read_answer(sock: socket.socket, buffer: bytearray | None = None) -> Answer:
    """One HTTP/1.1 response (Content-Length framed, as the gateway's are); ``buffer`` keeps
    bytes already read past it, for the next answer on the same connection."""
    data = buffer if buffer is not None else bytearray()
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed before a full answer: {bytes(data[:200])!r}")
        data += chunk
    head, _, rest = bytes(data).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = bytearray(rest)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed inside the answer's body")
        body += chunk
    data.clear()
    data += body[length:]
    return Answer(int(status_line.split()[1]), headers, bytes(body[:length]))


def closed_by_server(sock: socket.socket, timeout: float = 5) -> bool:
    """True when the server closes the connection (EOF or reset) within ``timeout``."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def send_slowly(sock: socket.socket, body: bytes, piece: int, pause: float) -> None:
    for start in range(0, len(body), piece):
        sock.sendall(body[start:start + piece])
        time.sleep(pause)


def chunked(body: bytes, piece: int) -> list[bytes]:
    frames = [
        f"{len(body[i:i + piece]):x}\r\n".encode() + body[i:i + piece] + b"\r\n"
        for i in range(0, len(body), piece)
    ]
    return frames + [b"0\r\n\r\n"]


def oversized_json(size: int = LIMIT + 44 * 1024) -> bytes:
    """A well-formed JSON object of ``size`` bytes."""
    prefix, suffix = b'{"filler": "', b'"}'
    return prefix + b"x" * (size - len(prefix) - len(suffix)) + suffix


# --- 1. the strict JSON parser in linear time -----------------------------------------------

def worst_case_json() -> bytes:
    """An unterminated string of escaped quotes, as long as the size limit allows."""
    prefix = b'{"a": "'
    return prefix + b'\\"' * ((LIMIT - len(prefix)) // 2)


def test_quadratic_json_bodies_do_not_freeze_the_workers(server, school):
    body = worst_case_json()
    assert len(body) <= LIMIT
    headers = {**send_headers(school), "Content-Type": "application/json"}
    in_flight = threading.Event()
    results: list = []

    def attack():
        started = time.monotonic()
        in_flight.set()
        try:
            response = requests.post(exchanges_url(server), data=body, headers=headers, timeout=10)
            results.append((time.monotonic() - started, response))
        except requests.RequestException as exc:
            results.append((time.monotonic() - started, exc))

    threads = [threading.Thread(target=attack) for _ in range(4)]
    for thread in threads:
        thread.start()
    in_flight.wait()
    health = []
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline and any(t.is_alive() for t in threads):
        started = time.monotonic()
        try:
            requests.get(f"{server.url}/healthz", timeout=3).raise_for_status()
            health.append(time.monotonic() - started)
        except requests.RequestException:
            health.append(float("inf"))
        time.sleep(0.02)
    for thread in threads:
        thread.join(timeout=15)
    assert health, "the attacks were over before /healthz could be asked"
    assert max(health) < 0.2, f"/healthz took {max(health):.3f} s while attacks were in flight"
    assert len(results) == 4
    for elapsed, response in results:
        assert isinstance(response, requests.Response), response
        assert_problem(response, 400, "invalid_json")
        assert elapsed < 1.0, f"an attack body took {elapsed:.2f} s to refuse"


# --- 2. metric labels stay a fixed set -------------------------------------------------------

def label_values(exposition: str, metric: str, label: str) -> set[str]:
    pattern = re.compile(rf'^{metric}_count{{([^}}]*)}}', re.MULTILINE)
    values = set()
    for labels in pattern.findall(exposition):
        match = re.search(rf'(?:^|,){label}="([^"]*)"', labels)
        if match:
            values.add(match.group(1))
    return values


def series_count(exposition: str) -> int:
    return sum(1 for line in exposition.splitlines() if line and not line.startswith("#"))


def test_invented_methods_and_paths_do_not_grow_the_metric_labels(server):
    def invent(count: int, tag: str) -> None:
        session = requests.Session()
        for n in range(count):
            method = f"X{tag}{n}M"
            for path in (f"/no/such/{tag}{n}", f"/api/v1/{tag}{n}", "/healthz", "/api/v1/inbox"):
                session.request(method, f"{server.url}{path}", timeout=10)
            session.request("GET", f"{server.url}/api/v1/consents/{tag}{n}", timeout=10)

    invent(5, "a")
    requests.get(f"{server.url}/metrics", timeout=10)  # so that /metrics has its own series
    before = requests.get(f"{server.url}/metrics", timeout=10).text
    invent(40, "b")
    after = requests.get(f"{server.url}/metrics", timeout=10).text
    methods = label_values(after, "gateway_request_duration_seconds", "method")
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}, methods
    endpoints = label_values(after, "gateway_request_duration_seconds", "endpoint")
    assert not any(value.startswith(("/no/such", "/api/v1/b")) for value in endpoints), endpoints
    statuses = label_values(after, "gateway_request_duration_seconds", "status")
    assert all(re.fullmatch(r"[1-5]\d\d", value) for value in statuses), statuses
    # forty more invented methods and paths add no series at all
    grown = series_count(after) - series_count(before)
    assert grown <= 0, f"{grown} new series after 40 invented methods and paths"


# --- 3. the contract on the wire -------------------------------------------------------------

def test_oversized_body_gets_its_413_problem_and_connection_close(server, school):
    response = requests.post(exchanges_url(server), data=oversized_json(),
                             headers={**send_headers(school), "Content-Type": "application/json"},
                             timeout=30)
    assert_problem(response, 413, "payload_too_large")
    assert response.headers.get("Connection", "").lower() == "close"


@pytest.mark.parametrize("path", ["/oauth/token", "/saml/acs"])
def test_oversized_form_to_an_anonymous_endpoint_gets_413(server, path):
    """The same bound for the form-encoded endpoints anyone may call (werkzeug refuses the
    form; the answer must still arrive, and the connection close)."""
    form = b"grant_type=client_credentials&pad=" + b"a" * (LIMIT + 1024)
    response = requests.post(f"{server.url}{path}", data=form, timeout=30,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413, (response.status_code, response.text[:300])
    assert response.headers.get("Connection", "").lower() == "close"


def test_unauthenticated_oversized_body_gets_its_401(server):
    """The token is checked first (API.md section 4): a stranger's 300 KiB body gets 401."""
    response = requests.post(exchanges_url(server), data=oversized_json(), timeout=30,
                             headers={"Content-Type": "application/json"})
    assert_problem(response, 401, "missing_token")


@pytest.mark.parametrize("size", [LIMIT + 1, 4 * LIMIT])
def test_oversized_body_413_with_requests_session_then_next_request_works(server, school, size):
    session = requests.Session()
    response = session.post(exchanges_url(server), data=b"{" + b" " * (size - 2) + b"}",
                            headers={**send_headers(school), "Content-Type": "application/json"},
                            timeout=30)
    assert_problem(response, 413, "payload_too_large")
    again = session.get(f"{server.url}/healthz", timeout=10)
    assert again.status_code == 200


def test_content_type_is_checked_before_size(server, school):
    """API.md section 4 step 3: content type (415), then size (413), then JSON (400)."""
    url = exchanges_url(server)
    wrong_type = requests.post(url, data=oversized_json(),
                               headers={**send_headers(school), "Content-Type": "text/plain"},
                               timeout=30)
    assert_problem(wrong_type, 415, "unsupported_media_type")
    no_type = requests.post(url, data=oversized_json(), headers=send_headers(school), timeout=30)
    assert_problem(no_type, 415, "unsupported_media_type")
    too_big_and_not_json = requests.post(
        url, data=b"[" * (LIMIT + 1),
        headers={**send_headers(school), "Content-Type": "application/json"}, timeout=30)
    assert_problem(too_big_and_not_json, 413, "payload_too_large")
    bad_json_and_bad_transaction = requests.post(
        url, data=b"{", headers={**send_headers(school), "Content-Type": "application/json",
                                 "Fsc-Transaction-Id": "nope"}, timeout=30)
    assert_problem(bad_json_and_bad_transaction, 400, "invalid_json")


def test_oversized_body_sent_slowly_gets_413_and_the_connection_is_closed(server, school):
    body = oversized_json()
    sock = connect(server)
    with sock:
        sock.sendall(request_head(server, "POST", "/api/v1/exchanges", {
            **send_headers(school), "Content-Type": "application/json",
            "Content-Length": str(len(body)),
        }))
        send_slowly(sock, body, piece=32 * 1024, pause=0.1)
        answer = read_answer(sock)
        assert answer.status == 413 and answer.json()["code"] == "payload_too_large"
        assert answer.headers["content-type"].startswith(PROBLEM)
        assert answer.headers.get("connection", "").lower() == "close"
        assert closed_by_server(sock)


@pytest.mark.parametrize("pause", [0, 0.05], ids=["fast", "slow"])
def test_oversized_chunked_body_gets_413(server, school, pause):
    sock = connect(server)
    with sock:
        sock.sendall(request_head(server, "POST", "/api/v1/exchanges", {
            **send_headers(school), "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
        }))
        for frame in chunked(oversized_json(), 16 * 1024):
            sock.sendall(frame)
            if pause:
                time.sleep(pause)
        answer = read_answer(sock)
        assert answer.status == 413 and answer.json()["code"] == "payload_too_large"
        assert answer.headers.get("connection", "").lower() == "close"
        assert closed_by_server(sock)


def test_a_chunked_body_within_the_limit_is_read(server, school):
    """The other side of the chunked test: a small chunked body is parsed, not refused."""
    sock = connect(server)
    with sock:
        sock.sendall(request_head(server, "POST", "/api/v1/exchanges", {
            **send_headers(school), "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
        }))
        for frame in chunked(b'{"a": 1, "a": 2}', 4):
            sock.sendall(frame)
        answer = read_answer(sock)
        assert answer.status == 400 and answer.json()["code"] == "invalid_json"


def test_next_request_on_the_connection_after_a_413(server, school):
    """After the 413 the server says ``Connection: close`` and closes; a client that sends the
    next request anyway on the same socket learns it at once (EOF), never a hung request."""
    body = oversized_json()
    sock = connect(server)
    with sock:
        sock.sendall(request_head(server, "POST", "/api/v1/exchanges", {
            **send_headers(school), "Content-Type": "application/json",
            "Content-Length": str(len(body)),
        }) + body)
        answer = read_answer(sock)
        assert answer.status == 413
        assert answer.headers.get("connection", "").lower() == "close"
        assert closed_by_server(sock)
    # and a new connection is served as usual
    assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200


GET_PATHS = [
    "/api/v1/inbox",
    "/api/v1/exchanges/00000000-0000-0000-0000-000000000000",
    "/api/v1/consents/00000000-0000-0000-0000-000000000000",
    "/api/v1/monitoring/indicators",
    "/api/v1/audit/events",
    "/api/v1/openapi.json",
    "/oauth/jwks",
    "/healthz",
]


@pytest.mark.parametrize("path", GET_PATHS)
@pytest.mark.parametrize("value", ["not-a-uuid", "123", "0" * 36])
def test_fsc_transaction_id_is_validated_on_gets(server, school, path, value):
    response = requests.get(f"{server.url}{path}",
                            headers=school.headers(**{"Fsc-Transaction-Id": value}), timeout=10)
    body = assert_problem(response, 400, "invalid_parameter")
    assert "Fsc-Transaction-Id" in body["errors"]


def test_a_valid_fsc_transaction_id_on_a_get_is_echoed(server, school):
    given = str(uuid.uuid4())
    response = requests.get(f"{server.url}/api/v1/inbox",
                            headers=school.headers(**{"Fsc-Transaction-Id": given}), timeout=10)
    assert response.status_code == 200
    assert response.headers["Fsc-Transaction-Id"] == given


def test_token_is_checked_before_the_transaction_id(server):
    """API.md section 4: the token answers first (401), then the transaction id."""
    response = requests.get(f"{server.url}/api/v1/inbox",
                            headers={"Fsc-Transaction-Id": "nope"}, timeout=10)
    assert_problem(response, 401, "missing_token")


KEEPALIVE = gunicorn_conf.keepalive  # seconds an idle connection is kept


def test_every_request_on_reused_connections_gets_an_answer(server):
    """5,000 requests from clients that keep their connections and pause, now and then, just
    around the server's keep-alive timeout: every request gets its answer."""
    url = f"{server.url}/healthz"
    pauses = [KEEPALIVE - 0.05, KEEPALIVE, KEEPALIVE + 0.05, KEEPALIVE - 0.02, KEEPALIVE + 0.02]
    per_client = 1000
    failures: list[str] = []

    def client(index: int) -> int:
        session = requests.Session()
        answered = 0
        pause_at = {per_client * (k + 1) // (len(pauses) + 1): pauses[(k + index) % len(pauses)]
                    for k in range(len(pauses))}
        for n in range(per_client):
            if n in pause_at and index < 2:
                time.sleep(pause_at[n])
            try:
                if session.get(url, timeout=10).status_code == 200:
                    answered += 1
            except requests.RequestException as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
        return answered

    started = time.monotonic()
    with ThreadPoolExecutor(5) as pool:
        answered = sum(pool.map(client, range(5)))
    assert time.monotonic() - started < 60
    assert answered == 5000, f"{5000 - answered} requests got no answer: {failures[:3]}"
