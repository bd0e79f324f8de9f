"""A real gateway (``gateway run``: gunicorn, two workers) federated with the harness's IdPs.

The gateway starts first (development, so its SP keys, signing and encryption, are made), the
SimpleSAMLphp IdPs are started with its SP metadata, and then the operator's bootstrap file
registers the organisations (with their BRIN and KvK numbers) and the IdPs in ``saml.idps``,
applied with the real CLI, exactly as an operator would.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import requests

from tests.e2e.conftest import LiveServer

SCHOOL_A = ("00000001001234567000", "OBS De Regenboog", "school", {"brin": "12AB"})
SCHOOL_B = ("00000001002222222000", "CBS Het Kompas", "school", {"brin": "34CD"})
LEERPLICHT = ("00000001005678901000", "Leerplicht Groningen", "leerplicht", {"kvk": "12345678"})
WIJ = ("00000001004567890000", "WIJ Groningen", "wij", {"kvk": "87654321"})
OPERATOR = ("00000001006789012000", "Gateway Beheer", "operator", {})
ORGANISATIONS = (SCHOOL_A, SCHOOL_B, LEERPLICHT, WIJ, OPERATOR)


@dataclass
class Federation:
    """The running gateway, the IdPs it trusts and how to change its bootstrap file."""

    server: LiveServer
    entree: object
    eherkenning: object
    folder: Path
    idps: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def sp_entity_id(self) -> str:
        return f"{self.url}/saml/metadata"

    def bootstrap(self, idps: list[str]) -> None:
        """Write and apply the bootstrap file with these ``saml.idps`` entries (YAML text)."""
        lines = ["organisations:"]
        for oin, name, type_, identifiers in ORGANISATIONS:
            lines += [f'  - oin: "{oin}"', f'    name: "{name}"', f"    type: {type_}"]
            lines += [f'    {key}: "{value}"' for key, value in identifiers.items()]
        lines += ["saml:", "  idps:"]
        for entry in idps:
            lines += [f"    {line}" for line in entry.strip("\n").splitlines()]
        path = self.folder / "bootstrap.yaml"
        path.write_text("\n".join(lines) + "\n")
        self.server.cli("bootstrap", str(path))
        self.idps = idps

    def query(self, sql: str, *args) -> list[tuple]:
        database = self.server.instance / "gateway.db"
        with sqlite3.connect(database) as connection:
            return connection.execute(sql, args).fetchall()

    def last_failure(self) -> tuple | None:
        """(reason, actor org, actor user) of the newest ``auth.failure`` event."""
        rows = self.query(
            "SELECT canonical FROM audit_events WHERE action = 'auth.failure' "
            "ORDER BY seq DESC LIMIT 1"
        )
        if not rows:
            return None
        event = json.loads(rows[0][0])
        actor = event.get("actor") or {}
        return event.get("reason"), actor.get("org"), actor.get("user")

    def failures(self) -> int:
        return self.query("SELECT count(*) FROM audit_events WHERE action = 'auth.failure'")[0][0]

    def sessions(self, idp: str | None = None) -> int:
        if idp is None:
            return self.query("SELECT count(*) FROM web_sessions")[0][0]
        return self.query("SELECT count(*) FROM web_sessions WHERE idp = ?", idp)[0][0]


def login_url(base: str, idp: str, next_path: str = "/ui/") -> str:
    return f"{base}/login?idp={idp}&next={next_path}"


def deliver(session: requests.Session, result):
    """Hand the IdP's answer to the gateway as the browser would (POST form or redirect)."""
    if result.saml_response is not None:
        return session.post(
            result.url, data=result.form_fields(), allow_redirects=False, timeout=30
        )
    return session.get(result.url, allow_redirects=False, timeout=30)


def instant(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def soon(seconds: float) -> datetime:
    from datetime import UTC

    return datetime.now(UTC) + timedelta(seconds=seconds)
