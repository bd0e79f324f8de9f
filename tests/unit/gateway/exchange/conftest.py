"""An exchange service over a real database (SQLite, and PostgreSQL when configured), with the
test partners registered: for tests that call the service directly, without HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.audit.log import AuditLog
from gateway.exchange.service import ExchangeService
from gateway.keys import KeyStore
from gateway.oauth.protect import Caller
from gateway.registry.service import OrganisationRegistry
from gateway.sealing import MESSAGES, Sealer
from gateway.storage.database import Database
from pseudonymise import DomainPseudonymiser
from tests import exchange_helpers as ex

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


@pytest.fixture
def world(database_url, keys_dir):
    """(database, service, organisations by OIN, the school as caller); the clock is NOW."""
    db = Database(database_url)
    registry = OrganisationRegistry(db, production=False)
    orgs = {oin: registry.add_organisation(oin, name, type_)
            for oin, name, type_ in ex.ORGANISATIONS}
    keyring = KeyStore(keys_dir, allow_generate=False).keyring
    service = ExchangeService(db, DomainPseudonymiser(keyring), None, Sealer(keyring, MESSAGES),
                              AuditLog(), lambda: NOW)
    school = orgs[ex.SCHOOL]
    caller = Caller("sis", school.id, school.oin, "school", school.name,
                    frozenset({"exchange:send"}), "t")
    yield db, service, orgs, caller
    db.dispose()


@pytest.fixture
def body():
    """``body(recipient, **members)``: what the view's body reader would give the service,
    an absence report about ``ex.BSN`` with ``members`` replaced."""

    def make(recipient, **members):
        document = {"message_type": "absence_report", "recipient": recipient,
                    "subject": {"bsn": ex.BSN}, "payload": ex.absence_report(NOW.date()),
                    **members}
        return lambda: document

    return make
