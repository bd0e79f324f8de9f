"""Revocation and suspension on the very next request in both gunicorn workers (issue 23).

Each worker keeps the tokens whose signature it verified (gateway/oauth/tokens.py); the token
row, with its client and organisation, is still read on every request, so a revocation
through the API or a suspension by the CLI (another process) must refuse the very next
request in every worker, also one that served the token a moment ago. Kept-alive connections
pin requests to workers: the test finds, through /proc, which worker holds each connection and
uses connections on both workers; each has served the token twice (the signature cached)
before the change, and its next request must be refused.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import start_server, stop_server
from tests.oauth_helpers import LIVE_A, Partners, Remote

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="finds the worker of a connection in /proc"
)


@pytest.fixture(scope="module")
def server(keys_dir, tmp_path_factory):
    instance = tmp_path_factory.mktemp("token-cache")
    shutil.copytree(keys_dir, instance / "keys")
    # idle kept-alive connections stay open across a CLI call (the default closes after 5 s)
    live = start_server(instance, instance / "keys", {"GATEWAY_KEEPALIVE": "300"})
    yield live
    stop_server(live.process)


@pytest.fixture(scope="module")
def remote(server, tmp_path_factory):
    partners = Partners("e2e-cache")
    server.cli("bootstrap", str(partners.bootstrap(tmp_path_factory.mktemp("b") / "b.yaml")))
    return Remote(server.url, partners)


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


def _server_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the server's end of the connection from ``client_port``."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if int(local.split(":")[1], 16) == server_port and (
                int(remote.split(":")[1], 16) == client_port
            ):
                return inode
    return None


def worker_of(session: requests.Session, server) -> int | None:
    """The pid of the process (a gunicorn worker) that holds ``session``'s connection."""
    adapter = session.get_adapter(server.url)
    pool = next(iter(adapter.poolmanager.pools._container.values()))
    connection = pool.pool.queue[-1]
    client_port = connection.sock.getsockname()[1]
    inode = _server_inode(int(server.url.rsplit(":", 1)[1]), client_port)
    group = os.getpgid(server.process.pid)
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.getpgid(int(name)) != group:
                    continue
            except OSError:
                continue
            if inode in _socket_inodes(int(name)):
                return int(name)
    return None


def get_me(session: requests.Session, server, token: str) -> requests.Response:
    return session.get(
        f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def sessions_on_both_workers(server, token: str) -> dict[int, requests.Session]:
    """One kept-alive connection per worker, each having served ``token`` twice (the second
    time from the worker's verified-signature cache)."""
    found: dict[int, requests.Session] = {}
    for _ in range(40):
        session = requests.Session()
        assert get_me(session, server, token).status_code == 200
        pid = worker_of(session, server)
        if pid is not None and pid not in found:
            found[pid] = session
        else:
            session.close()
        if len(found) == 2:
            break
    assert len(found) == 2, "no connection reached the second worker"
    for session in found.values():
        assert get_me(session, server, token).status_code == 200
    return found


def test_a_revoked_token_is_refused_by_both_workers_on_the_next_request(server, remote):
    token = remote.token("a-sis")
    sessions = sessions_on_both_workers(server, token)
    assert remote.revoke(token).status_code == 200  # on a connection of its own
    for pid, session in sessions.items():
        answer = get_me(session, server, token)
        assert answer.status_code == 401, pid
        assert answer.json()["code"] == "invalid_token"
        assert worker_of(session, server) == pid  # the same kept-alive connection, same worker
    other = remote.token("b-sis")  # the other organisation's token is untouched
    for session in sessions.values():
        assert get_me(session, server, other).status_code == 200


def test_a_suspension_by_another_process_is_seen_by_both_workers_on_the_next_request(
    server, remote
):
    token = remote.token("a-sis")
    other = remote.token("b-sis")
    sessions = sessions_on_both_workers(server, token)
    server.cli("org", "suspend", LIVE_A)
    try:
        for pid, session in sessions.items():
            answer = get_me(session, server, token)
            assert answer.status_code == 401, pid
            assert answer.json()["code"] == "invalid_token"
            assert worker_of(session, server) == pid
            assert get_me(session, server, other).status_code == 200
    finally:
        server.cli("org", "activate", LIVE_A)
