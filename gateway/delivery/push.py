"""One HTTP POST of a signed body to a recipient's ``delivery_url``.

Every call has a connect and a read timeout (``GATEWAY_DELIVERY_TIMEOUT_SECONDS``), presents
the gateway's client certificate when one is configured (mTLS), and follows no redirects: a
3xx is a failure, never a hop to another address. Only a 2xx counts as delivered. The outcome
names the error by status code or exception class only, so nothing of the body or the
recipient's answer reaches the database or the logs. Server certificates are checked against
the system trust store, or ``REQUESTS_CA_BUNDLE`` when set.

In production the worker hands over a :class:`~gateway.delivery.address.Destination`: the
connection goes to that checked address, never to a second resolution of the name, while TLS
SNI, certificate verification and ``Host`` use the host name (:class:`_PinnedAdapter`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from ..version import API_VERSION
from .address import Destination

MAX_ANSWER_BYTES = 64 * 1024
MAX_PINNED_SESSIONS = 64  # per thread; beyond it the oldest host's connections are closed
USER_AGENT = f"thuiszitterspact-gateway/{API_VERSION}"


@dataclass(frozen=True)
class PushOutcome:
    delivered: bool
    error: str | None = None
    status: int | None = None
    trace: object | None = None
    """The gateway's own trace of this push (:class:`gateway.telemetry.Trace`), whose
    ``traceparent`` the recipient got: the ``exchange.deliver`` event and its Logboek record
    are written in it."""


class Pusher:
    """POSTs bodies; one ``requests.Session`` (keep-alive pool) per thread."""

    def __init__(
        self,
        timeout_seconds: float,
        client_cert: Path | None = None,
        client_key: Path | None = None,
    ) -> None:
        self.timeout = (timeout_seconds, timeout_seconds)
        if client_cert is None:
            self.cert = None
        elif client_key is None:
            self.cert = str(client_cert)
        else:
            self.cert = (str(client_cert), str(client_key))
        self._local = threading.local()
        self._pinned_local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.cert = self.cert
            session.headers["User-Agent"] = USER_AGENT
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def _pinned_session(self, host: str) -> requests.Session:
        """A thread's session for ``host``: its pools connect to IP addresses but present
        ``host`` as SNI and check the certificate against it."""
        sessions = getattr(self._pinned_local, "sessions", None)
        if sessions is None:
            sessions = self._pinned_local.sessions = {}
        session = sessions.get(host)
        if session is None:
            if len(sessions) >= MAX_PINNED_SESSIONS:
                oldest = next(iter(sessions))
                sessions.pop(oldest).close()
            session = requests.Session()
            session.cert = self.cert
            session.headers["User-Agent"] = USER_AGENT
            session.mount("https://", _PinnedAdapter(host))
            session.mount("http://", HTTPAdapter())
            sessions[host] = session
            with self._lock:
                self._sessions.append(session)
        return session

    def push(
        self,
        url: str,
        body: bytes,
        signature: str,
        transaction_id: str,
        destination: Destination | None = None,
        traceparent: str | None = None,
    ) -> PushOutcome:
        """POST ``body``; with ``destination``, to its checked address and nowhere else.
        ``traceparent`` is the gateway's own trace of this push (W3C Trace Context), never
        the sender's (API.md section 13)."""
        headers = {
            "Content-Type": "application/json",
            "Gateway-Signature": signature,
            "Fsc-Transaction-Id": transaction_id,
        }
        if traceparent is not None:
            headers["traceparent"] = traceparent
        session = self._session()
        if destination is not None:
            url, host_header = _pinned_url(url, destination)
            headers["Host"] = host_header
            session = self._pinned_session(destination.host)
        try:
            response = session.post(
                url,
                data=body,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,
            )
        except requests.Timeout as exc:
            return PushOutcome(False, f"timeout ({type(exc).__name__})")
        except requests.RequestException as exc:
            return PushOutcome(False, type(exc).__name__)
        status = response.status_code
        try:
            _drain(response)
        except requests.RequestException:
            pass  # the status line decided; a broken answer body changes nothing
        finally:
            response.close()
        if 200 <= status < 300:
            return PushOutcome(True, status=status)
        return PushOutcome(False, f"http {status}", status)

    def close(self) -> None:
        """Close every thread's connections."""
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()


def _drain(response: requests.Response) -> None:
    """Read a short answer so the connection can be reused; a long one is cut off."""
    read = 0
    for chunk in response.iter_content(8192):
        read += len(chunk)
        if read > MAX_ANSWER_BYTES:
            break


class _PinnedAdapter(HTTPAdapter):
    """Connections to an address, speaking TLS to ``host``: urllib3 uses ``server_hostname``
    for SNI and for matching the certificate, so connecting by IP loses no verification."""

    def __init__(self, host: str) -> None:
        self.host = host
        super().__init__()

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        pool_kwargs["server_hostname"] = self.host
        super().init_poolmanager(connections, maxsize, block=block, **pool_kwargs)


def _pinned_url(url: str, destination: Destination) -> tuple[str, str]:
    """``url`` with its host replaced by the checked address, and the ``Host`` header."""
    parts = urlsplit(url)
    address = destination.address
    literal = f"[{address}]" if ":" in address else address
    default = 443 if parts.scheme == "https" else 80
    port = "" if destination.port == default else f":{destination.port}"
    host = f"[{destination.host}]" if ":" in destination.host else destination.host
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{literal}{port}" if userinfo else f"{literal}{port}"
    return urlunsplit(parts._replace(netloc=netloc)), f"{host}{port}"
