"""Homebound alerts: due windows, one alert per report and norm, the reporter's own pseudonym."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from consent.interfaces import NoConsentRegistry
from gateway.audit.log import AuditLog
from gateway.exchange.service import ExchangeService
from gateway.keys import KeyStore
from gateway.monitoring.alerts import due_alerts, issue_alerts
from gateway.monitoring.facts import FactRecorder
from gateway.registry.service import OrganisationRegistry
from gateway.sealing import MESSAGES, Sealer
from gateway.storage.database import Database
from pseudonymise import Bsn, DomainPseudonymiser, organisation_domain
from tests import exchange_helpers as ex

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
TODAY = date(2026, 3, 10)


@dataclass
class Fact:
    since_date: date
    placed_date: date | None = None


@dataclass(frozen=True)
class Caller:
    client_id: str
    org_id: int
    org_oin: str
    org_type: str
    org_name: str
    scopes: frozenset = frozenset({"exchange:send"})


def test_due_windows():
    assert due_alerts([Fact(TODAY - timedelta(days=34))], TODAY, 7) == []
    [(_, alert, threshold, days)] = due_alerts([Fact(TODAY - timedelta(days=35))], TODAY, 7)
    assert (alert, threshold, days) == ("approaching_6_weeks", TODAY + timedelta(days=7), 35)
    assert due_alerts([Fact(TODAY - timedelta(days=42))], TODAY, 7) == []
    [(_, alert, _, _)] = due_alerts([Fact(TODAY - timedelta(days=90))], TODAY, 7)
    assert alert == "approaching_3_months"
    assert due_alerts([Fact(TODAY - timedelta(days=88), TODAY)], TODAY, 7) == []  # placed


def test_alert_reaches_the_reporting_leerplicht_once(database_url, keys_dir):
    db = Database(database_url)
    registry = OrganisationRegistry(db, production=False)
    orgs = {oin: registry.add_organisation(oin, name, type_) for oin, name, type_ in ex.ORGANISATIONS}
    keyring = KeyStore(keys_dir, allow_generate=False).keyring
    pseudonymiser, sealer = DomainPseudonymiser(keyring), Sealer(keyring, MESSAGES)
    service = ExchangeService(db, pseudonymiser, NoConsentRegistry(), sealer, AuditLog(), lambda: NOW,
                              observer=FactRecorder())
    leerplicht = orgs[ex.LEERPLICHT]
    caller = Caller("lp", leerplicht.id, leerplicht.oin, "leerplicht", leerplicht.name)
    payload = dict(ex.homebound_report(TODAY), perspective="in_progress",
                   since_date=(TODAY - timedelta(days=38)).isoformat())
    del payload["placed_date"]
    body = {"message_type": "homebound_report", "recipient": ex.SWV, "subject": {"bsn": ex.BSN},
            "payload": payload}
    service.send(caller, lambda: body, "k1", "0190c4f5-8c6b-7cc0-8000-000000000009")
    assert issue_alerts(db, pseudonymiser, sealer, AuditLog(), NOW) == 1
    assert issue_alerts(db, pseudonymiser, sealer, AuditLog(), NOW) == 0
    [item] = service.inbox(caller, None, 50)["items"]
    assert item["message_type"] == "homebound_alert"
    assert item["sender"]["type"] == "operator"
    expected = pseudonymiser.pseudonymise(Bsn(ex.BSN), organisation_domain(ex.LEERPLICHT))
    assert item["subject"] == {"pseudonym": expected}
    assert item["payload"]["alert"] == "approaching_6_weeks"
    assert item["payload"]["days_at_home"] == 38
    assert item["legal_basis"] == {"type": "legal_obligation", "citation": "Leerplichtwet 1969 art. 25"}
    db.dispose()
