"""One HTTP POST of a signed body to a recipient's ``delivery_url``.

Every call has a connect and a read timeout (``GATEWAY_DELIVERY_TIMEOUT_SECONDS``), presents
the gateway's client certificate when one is configured (mTLS), and follows no redirects: a
3xx is a failure, never a hop to another address. Only a 2xx counts as delivered. The outcome
names the error by status code or exception class only, so nothing of the body or the
recipient's answer reaches the database or the logs. Server certificates are checked against
the system trust store, or ``REQUESTS_CA_BUNDLE`` when set.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import requests

from ..version import API_VERSION

MAX_ANSWER_BYTES = 64 * 1024
USER_AGENT = f"thuiszitterspact-gateway/{API_VERSION}"


@dataclass(frozen=True)
class PushOutcome:
    delivered: bool
    error: str | None = None
    status: int | None = None


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

    def push(self, url: str, body: bytes, signature: str, transaction_id: str) -> PushOutcome:
        headers = {
            "Content-Type": "application/json",
            "Gateway-Signature": signature,
            "Fsc-Transaction-Id": transaction_id,
        }
        try:
            response = self._session().post(
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
