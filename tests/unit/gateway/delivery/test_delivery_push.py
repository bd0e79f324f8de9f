"""Pushing over mTLS to a real HTTPS recipient on 127.0.0.1, and the two mTLS settings.

The recipient requires a client certificate from the development CA (``certs``) and records
the OIN in the certificate the gateway presented.
"""

from __future__ import annotations

import ipaddress
import ssl
import threading
from datetime import timedelta
from http.server import ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from certs.authority import create_development_ca
from certs.organisation import issue_organisation_certificate, oin_from_certificate, write_pem
from gateway.config import ConfigurationError, Settings
from gateway.delivery.push import Pusher
from gateway.delivery.recipient import Recipient, handler_for
from tests import exchange_helpers as ex
from tests.e2e.conftest import free_port

BODY = b'{"id":"00000000-0000-4000-8000-000000000001"}'


def server_certificate(ca):
    key = ec.generate_private_key(ec.SECP256R1())
    now = ca.certificate.not_valid_before_utc
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return key, cert


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    ca = create_development_ca()
    ca.save(folder)
    server_key, server_cert = server_certificate(ca)
    write_pem(folder / "server.pem", server_key, server_cert)
    client_key, client_cert = issue_organisation_certificate(ca, ex.OPERATOR, "Gateway Beheer")
    write_pem(folder / "gateway.pem", client_key, client_cert)  # key and certificate
    write_pem(folder / "gateway-cert.pem", cert=client_cert)
    write_pem(folder / "gateway-key.pem", key=client_key)
    return folder


@pytest.fixture
def https_recipient(pki, monkeypatch):
    """An HTTPS recipient that requires a client certificate of the development CA."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki / "server.pem")
    context.load_verify_locations(pki / "ca.pem")
    context.verify_mode = ssl.CERT_REQUIRED
    port = free_port()
    recipient = Recipient(None)
    peers: list[str | None] = []
    base = handler_for(recipient)

    class Handler(base):
        def do_POST(self):
            der = self.connection.getpeercert(binary_form=True)
            peers.append(oin_from_certificate(x509.load_der_x509_certificate(der)))
            super().do_POST()

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki / "ca.pem"))
    yield f"https://127.0.0.1:{port}/inbox", recipient, peers
    server.shutdown()
    server.server_close()


def test_mtls_with_a_combined_pem(pki, https_recipient):
    url, recipient, peers = https_recipient
    outcome = Pusher(5, pki / "gateway.pem").push(url, BODY, "sig", "tx")
    assert outcome.delivered and outcome.status == 200
    assert peers == [ex.OPERATOR]
    assert recipient.stats()["unique"] == 1


def test_mtls_with_separate_certificate_and_key(pki, https_recipient):
    url, _, peers = https_recipient
    outcome = Pusher(5, pki / "gateway-cert.pem", pki / "gateway-key.pem").push(
        url, BODY, "sig", "tx"
    )
    assert outcome.delivered and peers == [ex.OPERATOR]


def test_without_a_client_certificate_the_recipient_refuses(https_recipient):
    url, recipient, _ = https_recipient
    outcome = Pusher(5).push(url, BODY, "sig", "tx")
    assert not outcome.delivered
    assert outcome.error in ("SSLError", "ConnectionError")
    assert recipient.stats()["unique"] == 0


def test_an_untrusted_server_certificate_is_refused(pki, https_recipient, monkeypatch):
    url, recipient, _ = https_recipient
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    outcome = Pusher(5, pki / "gateway.pem").push(url, BODY, "sig", "tx")
    assert (outcome.delivered, outcome.error) == (False, "SSLError")
    assert recipient.stats()["unique"] == 0


def test_client_certificate_settings(tmp_path):
    settings = Settings.from_env(
        {
            "GATEWAY_DELIVERY_CLIENT_CERT": str(tmp_path / "c.pem"),
            "GATEWAY_DELIVERY_CLIENT_KEY": str(tmp_path / "k.pem"),
        }
    )
    assert settings.delivery_client_cert == tmp_path / "c.pem"
    assert settings.delivery_client_key == tmp_path / "k.pem"
    assert Settings.from_env({}).delivery_client_cert is None
    with pytest.raises(ConfigurationError, match="GATEWAY_DELIVERY_CLIENT_CERT"):
        Settings.from_env({"GATEWAY_DELIVERY_CLIENT_KEY": str(tmp_path / "k.pem")})
