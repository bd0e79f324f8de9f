"""``delivery_url`` at delivery time (issue 16): in production the worker resolves the host,
refuses a push when it resolves to a non-public address (no connection is made), and connects
to exactly the address it checked, with the host name as SNI, certificate name and ``Host``, so
that a DNS answer changed between check and connect (rebinding) cannot redirect the push."""

from __future__ import annotations

import ipaddress
import select
import socket
import ssl
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy import select as sql_select

from certs.authority import create_development_ca
from certs.organisation import write_pem
from gateway.delivery import address
from gateway.delivery.outbox import Outbox
from gateway.delivery.push import Pusher
from gateway.delivery.signing import DeliverySigner
from gateway.delivery.worker import DeliveryPolicy, DeliveryWorker
from gateway.exchange.models import Message
from gateway.keys import KeyStore
from tests import delivery_helpers as dh

REAL_GETADDRINFO = socket.getaddrinfo


def resolving(names: dict[str, str]):
    """A ``getaddrinfo`` that answers ``names`` itself and refuses every other name (so a
    test never asks real DNS); IP literals pass through."""

    def resolve(host, port, *args, **kwargs):
        if host in names:
            family = socket.AF_INET6 if ":" in names[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (names[host], port))]
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise socket.gaierror(socket.EAI_NONAME, "unknown in this test") from None
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    return resolve


class Listener:
    """A plain listening socket that records whether anything connected."""

    def __init__(self, port: int) -> None:
        self.socket = socket.socket()
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", port))
        self.socket.listen(8)

    def connected(self) -> bool:
        readable, _, _ = select.select([self.socket], [], [], 0.3)
        return bool(readable)

    def close(self) -> None:
        self.socket.close()


@pytest.fixture
def port_443():
    """127.0.0.1:443, where a production push to a name resolving to 127.0.0.1 would go."""
    try:
        listener = Listener(443)
    except OSError as exc:  # not root, or the port is taken on this machine
        pytest.skip(f"cannot listen on 127.0.0.1:443 ({exc})")
    yield listener
    listener.close()


def production_worker(database_url, keys_dir, url):
    """A worker with the production delivery policy, and the demo organisations (the
    leerplicht office with ``url``, stored as it was registered: only the worker checks)."""
    keys = KeyStore(keys_dir, allow_generate=False)
    seeded = dh.seed(database_url, keys, url)
    policy = DeliveryPolicy(max_attempts=10, backoff_seconds=5, timeout_seconds=2,
                            production=True)
    worker = DeliveryWorker(Outbox(seeded.db, seeded.audit), seeded.sealer, DeliverySigner(keys),
                            Pusher(policy.timeout_seconds), policy)
    return seeded, worker


def stored(seeded, message_id) -> Message:
    with seeded.db.session() as session:
        return session.scalars(sql_select(Message).where(Message.id == message_id)).one()


@pytest.mark.parametrize(
    "name, resolved",
    [("partner.example", "127.0.0.1"), ("partner.example", "10.0.0.5"),
     ("partner.example", "169.254.169.254"), ("partner.example", "::1"),
     ("localhost", None)],
)
def test_a_host_resolving_to_a_private_address_is_refused_without_connecting(
    database_url, keys_dir, port_443, monkeypatch, name, resolved
):
    names = {name: resolved} if resolved else {"localhost": "127.0.0.1"}
    monkeypatch.setattr(socket, "getaddrinfo", resolving(names))
    seeded, worker = production_worker(database_url, keys_dir, f"https://{name}/inbox")
    try:
        message_id = dh.store(seeded)
        assert worker.run_once() == 1
        assert not port_443.connected(), "the worker connected to a non-public address"
        message = stored(seeded, message_id)
        assert message.status == "accepted" and message.attempts == 1
        assert message.last_error == "delivery_url host resolves to a non-public address"
    finally:
        worker.pusher.close()
        seeded.db.dispose()


def test_one_private_answer_among_public_ones_is_refused():
    def mixed(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port))]

    with pytest.raises(address.AddressRefused, match="non-public"):
        address.pin("https://partner.example/inbox", mixed)
    assert address.pin("https://93.184.216.34/x").address == "93.184.216.34"


def test_a_name_that_does_not_resolve_is_a_failed_attempt(database_url, keys_dir, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", resolving({}))
    seeded, worker = production_worker(database_url, keys_dir, "https://nowhere.example/inbox")
    try:
        message_id = dh.store(seeded)
        worker.run_once()
        message = stored(seeded, message_id)
        assert message.status == "accepted"
        assert message.last_error == "delivery_url host does not resolve"
    finally:
        worker.pusher.close()
        seeded.db.dispose()


# pinning: the connection goes to the checked address, TLS still speaks to the name ------------
@pytest.fixture(scope="module")
def partner_tls(tmp_path_factory):
    """An HTTPS server on 127.0.0.1 with a certificate for ``partner.test`` only."""
    folder = tmp_path_factory.mktemp("partner-tls")
    ca = create_development_ca()
    ca.save(folder)
    key = ec.generate_private_key(ec.SECP256R1())
    now = ca.certificate.not_valid_before_utc
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "partner.test")]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("partner.test")]),
                       critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    write_pem(folder / "server.pem", key, cert)
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append({"host": self.headers.get("Host"),
                         "sni": getattr(self.connection, "sni", None)})
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "server.pem")

    def remember_sni(sock, server_name, _context):
        sock.sni = server_name

    context.sni_callback = remember_sni
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], folder / "ca.pem", seen
    server.shutdown()
    server.server_close()


def test_the_push_connects_to_the_checked_address_with_the_name_for_tls(
    partner_tls, monkeypatch
):
    """The check resolves partner.test to 127.0.0.1 (treated as public here); afterwards the
    name resolves nowhere (a rebinding attacker's next answer). The push still reaches the
    checked address, with SNI and Host partner.test and the certificate checked for it."""
    port, ca, seen = partner_tls
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))
    monkeypatch.setattr(address, "is_public_address", lambda _address: True)
    url = f"https://partner.test:{port}/inbox"
    destination = address.pin(url, resolving({"partner.test": "127.0.0.1"}))
    assert destination.address == "127.0.0.1"
    monkeypatch.setattr(socket, "getaddrinfo", resolving({}))  # no second answer
    seen.clear()
    pusher = Pusher(5)
    try:
        outcome = pusher.push(url, b"{}", "sig", "tx", destination)
        again = pusher.push(url, b"{}", "sig", "tx", destination)  # a kept-alive connection
    finally:
        pusher.close()
    assert outcome.delivered and again.delivered, (outcome, again)
    assert seen[0] == {"host": f"partner.test:{port}", "sni": "partner.test"}


def test_a_certificate_for_another_name_is_still_refused_when_pinned(partner_tls, monkeypatch):
    """Connecting by address must not weaken TLS: the certificate must match the name."""
    port, ca, _ = partner_tls
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))
    monkeypatch.setattr(address, "is_public_address", lambda _address: True)
    url = f"https://other.test:{port}/inbox"
    destination = address.pin(url, resolving({"other.test": "127.0.0.1"}))
    pusher = Pusher(5)
    try:
        outcome = pusher.push(url, b"{}", "sig", "tx", destination)
    finally:
        pusher.close()
    assert (outcome.delivered, outcome.error) == (False, "SSLError")
