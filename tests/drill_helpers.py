"""Helpers of the reliability drills (``tests/reliability/test_drill_*.py``).

* :class:`ThrowawayPostgres`: a PostgreSQL 15 cluster of our own (``initdb`` in a temporary
  directory, run as the ``postgres`` user, on a free port, sockets in that directory) that a
  drill may stop and start without touching the shared cluster other tests use.
* :class:`Load`: background threads that keep sending valid exchanges through the real API and
  record every answer (status, headers, body), so that a drill can check each one afterwards.
* Database reads of what the server stored (message rows, audit events, the audit chain).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import requests
from sqlalchemy import text

from gateway.storage.database import Database
from tests import exchange_helpers as ex
from tests.e2e.conftest import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def postgres_available() -> bool:
    """initdb is installed and there is a ``postgres`` user to run it as."""
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return False
    return (PG_BIN / "initdb").exists() and (os.geteuid() == 0 or _whoami() == "postgres")


def _whoami() -> str:
    return pwd.getpwuid(os.geteuid()).pw_name


class ThrowawayPostgres:
    """A private PostgreSQL cluster: ``start()``, ``stop()`` (fast shutdown), ``destroy()``."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="gw-drill-pg-"))
        self.data = self.directory / "data"
        self.port = free_port()
        os.chmod(self.directory, 0o700)
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.directory, user.pw_uid, user.pw_gid)
        self._as_postgres(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C",
        )
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.directory}'\nfsync = off\n"
                "max_connections = 200\nshared_buffers = 32MB\n"
            )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        if os.geteuid() == 0:
            command = ("runuser", "-u", "postgres", "--", *command)
        result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                                cwd=self.directory)
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def start(self) -> None:
        self._as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.directory / "pg.log"),
            "-w", "-t", "60", "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        result = self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "status",
                                   check=False)
        return result.returncode == 0

    def destroy(self) -> None:
        if self.data.exists() and self.running():
            self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)

    def configure(self, settings: str) -> None:
        """Append ``settings`` to postgresql.conf (the last line for a name wins)."""
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write("\n" + settings + "\n")

    def query(self, sql: str) -> str:
        """``psql -Atc sql`` over this cluster's socket, as ``postgres``; its output."""
        return self._as_postgres(
            str(PG_BIN / "psql"), "-h", str(self.directory), "-p", str(self.port),
            "-U", "postgres", "-d", "postgres", "-Atc", sql,
        ).stdout.strip()

    def process(self, kind: str) -> int:
        """The pid of this cluster's ``postgres: <kind>`` process (``walsender``,
        ``walreceiver`` ...): a drill stops one (SIGSTOP) to stall replication."""
        master = int((self.data / "postmaster.pid").read_text().split()[0])
        for pid in gunicorn_workers(master):  # children of the postmaster
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if kind.encode() in command:
                return pid
        raise AssertionError(f"no {kind} process in the cluster on port {self.port}")

    def kill9(self) -> list[int]:
        """The machine is lost: SIGKILL to the postmaster and every process it started (no
        shutdown checkpoint, no goodbye to clients or to the standby). Returns the pids."""
        import signal

        master = int((self.data / "postmaster.pid").read_text().split()[0])
        victims = [master, *gunicorn_workers(master)]  # children of the postmaster
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return victims


class StandbyPostgres(ThrowawayPostgres):
    """A streaming standby of ``primary`` (``pg_basebackup`` in a temporary directory, its own
    free port), named ``name`` towards the primary (``application_name``, what the primary's
    ``synchronous_standby_names`` lists). ``promote()`` makes it the primary.

    It is configured with ``synchronous_standby_names = ''``: once promoted it has no standby
    of its own, and a primary that waits for one that does not exist never commits again.
    """

    def __init__(self, primary: ThrowawayPostgres, name: str = "standby") -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="gw-drill-pg-standby-"))
        self.data = self.directory / "data"
        self.port = free_port()
        self.name = name
        os.chmod(self.directory, 0o700)
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.directory, user.pw_uid, user.pw_gid)
        self._as_postgres(
            str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port),
            "-U", "postgres", "-D", str(self.data), "-X", "stream", "-c", "fast", "--no-sync",
        )
        self._as_postgres("touch", str(self.data / "standby.signal"))
        self.configure(
            f"port = {self.port}\nunix_socket_directories = '{self.directory}'\n"
            "synchronous_standby_names = ''\nhot_standby = on\n"
            f"primary_conninfo = 'host=127.0.0.1 port={primary.port} user=postgres "
            f"application_name={name}'\nwal_receiver_status_interval = 1s\n"
        )

    def promote(self) -> None:
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60",
                          "promote")

    def in_recovery(self) -> bool:
        return self.query("SELECT pg_is_in_recovery()") == "t"



# traffic ------------------------------------------------------------------------------------
def absence_body(today: date | None = None) -> dict:
    return {
        "message_type": "absence_report",
        "recipient": ex.LEERPLICHT,
        "subject": {"bsn": ex.BSN},
        "payload": ex.absence_report(today or ex.today()),
    }


@dataclass
class Answer:
    at: float
    status: int  # 0: no HTTP answer (connection refused or reset)
    headers: dict
    body: object
    key: str
    error: str = ""
    sent: float = 0.0  # when the request started (``at``: when its answer was read)


@dataclass
class Load:
    """``threads`` threads, each sending absence reports from ``partner`` until ``stop()``.

    ``mix`` (a list of ``(partner, body)``) replaces that with a round robin of exchanges from
    several partners. Every answer is kept in ``answers``. ``pause`` seconds between requests
    of one thread keep the load bounded (the drills run on two CI cores next to the server).
    """

    partner: object
    threads: int = 3
    pause: float = 0.02
    body: dict = field(default_factory=absence_body)
    answers: list[Answer] = field(default_factory=list)
    mix: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers = [threading.Thread(target=self._run, daemon=True)
                         for _ in range(self.threads)]

    def start(self) -> Load:
        for worker in self._workers:
            worker.start()
        return self

    def stop(self) -> list[Answer]:
        self._stop.set()
        for worker in self._workers:
            worker.join(30)
        return self.answers

    def count(self) -> int:
        with self._lock:
            return len(self.answers)

    def _run(self) -> None:
        session = requests.Session()
        url = f"{self.partner.base_url}/api/v1/exchanges"
        plan = self.mix or [(self.partner, self.body)]
        turn = 0
        while not self._stop.is_set():
            sender, body = plan[turn % len(plan)]
            turn += 1
            key, sent = uuid.uuid4().hex, time.monotonic()
            try:
                response = session.post(
                    url, json=body, timeout=15,
                    headers={"Authorization": f"Bearer {sender.token()}", "Idempotency-Key": key},
                )
                try:
                    body = response.json()
                except ValueError:
                    body = response.text
                answer = Answer(time.monotonic(), response.status_code, dict(response.headers),
                                body, key, sent=sent)
            except requests.RequestException as exc:
                session.close()
                session = requests.Session()
                answer = Answer(time.monotonic(), 0, {}, None, key, type(exc).__name__, sent)
            with self._lock:
                self.answers.append(answer)
            time.sleep(self.pause)
        session.close()


def accepted_ids(answers: list[Answer]) -> list[str]:
    return [a.body["id"] for a in answers if a.status == 202]


def summary(answers: list[Answer]) -> dict:
    counts: dict[str, int] = {}
    for answer in answers:
        label = str(answer.status) if answer.status else f"no answer ({answer.error})"
        counts[label] = counts.get(label, 0) + 1
    return counts


# what the server stored ---------------------------------------------------------------------
def _rows(database_url: str, query: str) -> list:
    db = Database(database_url)
    try:
        with db.engine.connect() as connection:
            return connection.execute(text(query)).all()
    finally:
        db.dispose()


def message_ids(database_url: str) -> set[str]:
    return {row[0] for row in _rows(database_url, "SELECT id FROM messages")}


def audit_events(database_url: str, action: str | None = None) -> list[dict]:
    rows = _rows(database_url, "SELECT canonical FROM audit_events ORDER BY seq")
    events = [json.loads(row[0]) for row in rows]
    return [e for e in events if action is None or e["action"] == action]


def assert_nothing_half_written(database_url: str, accepted: list[str]) -> None:
    """Every accepted exchange has its message row and its allowed ``exchange.send`` event,
    and every stored message and every allowed send event has the other (no orphan of a
    transaction cut in half)."""
    stored = message_ids(database_url)
    sent = {e["exchange_id"] for e in audit_events(database_url, "exchange.send")
            if e["decision"] == "allowed"}
    missing = set(accepted) - stored
    assert not missing, f"{len(missing)} accepted exchanges have no message row"
    assert stored == sent, (
        f"messages without audit event: {len(stored - sent)}, "
        f"audit events without message: {len(sent - stored)}"
    )


def assert_audit_chain(database_url: str) -> int:
    """seq without gaps, each row hashes to its ``hash`` and links to the previous one."""
    import hashlib

    rows = _rows(database_url, "SELECT seq, canonical, hash FROM audit_events ORDER BY seq")
    previous = "0" * 64
    for expected, (seq, canonical, digest) in enumerate(rows, start=1):
        assert seq == expected, f"audit seq gap at {expected}"
        assert hashlib.sha256(canonical.encode()).hexdigest() == digest, f"seq {seq} hash"
        assert json.loads(canonical)["prev_hash"] == previous, f"seq {seq} prev_hash"
        previous = digest
    return len(rows)


def cli_audit_verify(server) -> dict:
    """``gateway audit verify --no-record``: the shipped verifier (chain and checkpoints)."""
    result = server.cli("audit", "verify", "--no-record", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout[: result.stdout.rindex("}") + 1])


def consent_body(bsn: str = ex.BSN, purpose: str = "mazl", parties=None) -> dict:
    today = ex.today()
    return {
        "subject": {"bsn": bsn},
        "date_of_birth": ex.born(today, 9),
        "purpose": purpose,
        "parties": list(parties or [ex.SCHOOL, "ggd"]),
        "granted_by": [{"role": "parent"}],
        "valid_from": (today - timedelta(days=1)).isoformat(),
        "valid_until": (today + timedelta(days=180)).isoformat(),
        "evidence": {"method": "digital", "reference": "drill-1"},
    }


def wait_until(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# processes ----------------------------------------------------------------------------------
def restart_server(server, log_name: str = "server-restarted.log"):
    """Start ``gateway run`` again for a stopped ``server`` on the same port, with the same
    environment (so the same issuer, keys and database); returns a new ``LiveServer``."""
    import sys

    from tests.e2e.conftest import LiveServer

    assert server.process.poll() is not None, "stop the server first"
    port = server.url.rsplit(":", 1)[1]
    log = open(server.instance / log_name, "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "run", "--port", port, "--workers", "2"],
        env=server.env, cwd=server.instance, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((server.instance / log_name).read_text())
        try:
            if requests.get(f"{server.url}/readyz", timeout=5).status_code == 200:
                return LiveServer(server.url, server.env, process, server.instance)
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError("the restarted gateway did not become ready")


def gunicorn_workers(master_pid: int) -> list[int]:
    """The pids of the gunicorn workers of ``master_pid`` (children in /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master_pid:
            found.append(int(entry.name))
    return sorted(found)
