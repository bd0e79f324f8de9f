"""Shared steps of the pact's end-to-end tests (issue 20; docs/pact-workflows.md 10.2).

Written from the design, not from the code: every expected value a test compares with is
written out by hand in the test; this module only runs a server of the module's own, talks
HTTP and computes the values the gateway must produce independently of it (a recipient's
pseudonym from the server's key, the local date and time of a ``--now``).

Each test module gets a server of its own: ``gateway pact run --now`` and ``gateway org
suspend`` act on everything stored, and a case of another module would then add reminders
to the inboxes these tests write out in full.
"""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

from gateway.keys import KeyStore
from pseudonymise import Bsn, DomainPseudonymiser, organisation_domain
from tests import exchange_helpers as ex
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.partners import register_partners

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
WORLD = [*ex.ORGANISATIONS, *ex.REGION_ORGANISATIONS]
NAMES = {oin: name for oin, name, _ in WORLD}
TYPES = {oin: type_ for oin, _, type_ in WORLD}
VOLATILE = ("created_at", "fsc_transaction_id")
"""Members of an inbox item a test cannot know in advance: compared apart."""


def org(oin: str) -> dict:
    """An organisation as the case messages and views name it (design 3.3)."""
    return {"oin": oin, "name": NAMES[oin], "type": TYPES[oin]}


# the world ---------------------------------------------------------------------------------
def own_server(tmp_path_factory, keys_dir, name: str):
    instance = tmp_path_factory.mktemp(name)
    shutil.copytree(keys_dir, instance / "keys")
    return start_server(instance, instance / "keys")


def pact_partners(server, tmp_path: Path) -> dict:
    """The e2e organisations with the areas they serve (design 10.2 shared setup): the
    leerplicht office serves municipality 0014, the Groningen SWV region groningen for po
    and so, a second Groningen SWV vo and vso; the Lekstroom organisations and regions."""
    return register_partners(server, tmp_path, regions=True)


def make_pseudonymiser(server) -> DomainPseudonymiser:
    """The server's own pseudonymiser (its key directory), to compute what a recipient must
    receive without asking the gateway."""
    keys = KeyStore(Path(server.env["GATEWAY_KEYS_DIR"]), allow_generate=False)
    return DomainPseudonymiser(keys.keyring)


def pseudonym(pseudonymiser, bsn: str, oin: str) -> str:
    """The pseudonym organisation ``oin`` must receive for child ``bsn``."""
    return pseudonymiser.pseudonymise(Bsn(bsn), organisation_domain(oin))


def audit_ref(pseudonymiser, bsn: str) -> str:
    return pseudonymiser.pseudonymise(Bsn(bsn), "audit")


# HTTP --------------------------------------------------------------------------------------
def post(partner, path: str, body=None, **headers):
    return requests.post(
        f"{partner.base_url}{path}", json=body, timeout=30, headers=partner.headers(**headers)
    )


def get(partner, path: str, **params):
    return requests.get(
        f"{partner.base_url}{path}", params=params, timeout=30, headers=partner.headers()
    )


def open_case(partner, body: dict, key: str | None = None):
    return post(partner, "/api/v1/cases", body, **{"Idempotency-Key": key or uuid.uuid4().hex})


def case_refs(partner) -> list[str]:
    """The refs of every case the partner takes part in (``GET /api/v1/cases``, all pages)."""
    refs, cursor = [], None
    while True:
        page = get(partner, "/api/v1/cases", limit="100", **({"cursor": cursor} if cursor else {}))
        assert page.status_code == 200, page.text
        refs += [item["case_ref"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if not cursor:
            return refs


def record_consent(partner, bsn: str, purpose: str, parties: list, days: int = 180) -> str:
    today = ex.today()
    body = {
        "subject": {"bsn": bsn},
        "date_of_birth": ex.born(today, 12),
        "purpose": purpose,
        "parties": parties,
        "granted_by": [{"role": "parent"}, {"role": "youth"}],
        "valid_from": (today - timedelta(days=1)).isoformat(),
        "valid_until": (today + timedelta(days=days)).isoformat(),
        "evidence": {"method": "written", "reference": "TOESTEMMING-E2E-20"},
    }
    response = post(partner, "/api/v1/consents", body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def withdraw_consent(partner, consent_id: str):
    return post(
        partner,
        f"/api/v1/consents/{consent_id}/withdraw",
        {"withdrawn_by": {"role": "parent"}, "reason": "Ouders trekken in."},
    )


def audit_events(partner, start: tuple[str, int], **params) -> list[dict]:
    """Every audit event ``partner`` may read after the mark ``start`` (:func:`started`),
    oldest first."""
    events, cursor = [], None
    while True:
        page = get(
            partner,
            "/api/v1/audit/events",
            limit="500",
            **{"from": start[0]},
            **params,
            **({"cursor": cursor} if cursor else {}),
        )
        assert page.status_code == 200, page.text
        events += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if not cursor:
            return [e for e in events if e["seq"] > start[1]]


def started(operator) -> tuple[str, int]:
    """A mark in the audit log: a ``from`` a little before now and the last sequence number
    the operator can see, so that :func:`audit_events` returns only what came after."""
    since = (datetime.now(ZoneInfo("UTC")) - timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return since, max((e["seq"] for e in audit_events(operator, (since, 0))), default=0)


def without_volatile(items: list[dict]) -> list[dict]:
    """The items with the members the test cannot know left out (checked apart)."""
    return [{k: v for k, v in item.items() if k not in VOLATILE} for item in items]


def local(day: date, hour: int, minute: int = 0, second: int = 0) -> str:
    """An RFC 3339 instant at the given local (Europe/Amsterdam) time of ``day``."""
    return datetime.combine(day, time(hour, minute, second), tzinfo=AMSTERDAM).isoformat()


def pact_run(server, now: str | None = None):
    """``gateway pact run [--now ...]`` (the daily command of design 5.4)."""
    return server.cli("pact", "run", *(("--now", now) if now else ()))


def is_uuid4(value: str) -> bool:
    try:
        return uuid.UUID(value).version == 4 and str(uuid.UUID(value)) == value
    except (ValueError, TypeError, AttributeError):
        return False


def problem_without_instance(response) -> dict:
    """A problem body without ``instance`` (the request path, which names the ref asked for)."""
    body = response.json()
    body.pop("instance", None)
    return body


def school_year(day: date) -> str:
    """The school year (1 August - 31 July) of ``day``, as ``2026-2027``."""
    first = day.year if day.month >= 8 else day.year - 1
    return f"{first}-{first + 1}"


def dumps(value) -> str:
    return json.dumps(value, sort_keys=True)


__all__ = [
    "AMSTERDAM",
    "NAMES",
    "TYPES",
    "audit_events",
    "audit_ref",
    "case_refs",
    "dumps",
    "get",
    "is_uuid4",
    "local",
    "open_case",
    "org",
    "own_server",
    "pact_partners",
    "pact_run",
    "post",
    "make_pseudonymiser",
    "problem_without_instance",
    "pseudonym",
    "record_consent",
    "school_year",
    "started",
    "stop_server",
    "withdraw_consent",
    "without_volatile",
]
