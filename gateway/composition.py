"""The composition root: every service of one process, built once from the settings.

``create_app`` builds a :class:`Services` and the views reach it through the typed accessor
:func:`gateway.services.services`; the CLI and the delivery worker build their own (one per
command) through :func:`gateway.cli.context.services`. Each service is constructed here and
nowhere else (``tests/architecture`` checks it), so a dependency is named once and a new
service has one obvious place to be wired.

Each service is a cached property: built on first use, then the same object for the life of
the process. ``create_app`` asks for all of them (:meth:`Services.build_all`), so a server
that cannot build one refuses to start; a CLI command builds only what it uses (the audit
verifier needs no SAML provider). Plain Python: no Flask below the HTTP layer.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from consent.interfaces import ConsentChecker
from consent.service import ConsentService
from consent.subjects import DomainSubjects
from pseudonymise import DomainPseudonymiser
from schemas.vocabulary import GATEWAY_MESSAGE_TYPES

from . import all_models
from .audit.checkpoints import Checkpointer, checkpointer_for
from .audit.log import AuditLog
from .audit.service import AuditService
from .audit.witness import witness_for
from .clock import Clock, system_clock
from .config import Settings
from .consents.api import ConsentApi
from .consents.checker import CountingConsentChecker
from .consents.knowledge import AuditKnowledge, SqlExchangeRecord
from .consents.receipts import KeyStoreReceiptSigner
from .consents.store import SqlConsentStore
from .consents.trail import AuditTrail
from .exchange.notices import WithdrawalNotices
from .exchange.observers import CompositeObserver
from .exchange.retractions import RetractionService
from .exchange.service import ExchangeService
from .keys import KeyStore
from .logboek.records import LogboekWriter
from .monitoring.config import load_monitoring_config
from .monitoring.facts import FactRecorder
from .monitoring.service import MonitoringService
from .monitoring.stats import ExchangeStats
from .oauth.assertions import AssertionVerifier
from .oauth.store import OAuthStore
from .oauth.tokens import TokenService
from .pact.advice_observer import AdviceObserver
from .pact.escalation import EscalationService
from .pact.indicators import PactIndicators
from .pact.placement_observer import PlacementObserver
from .pact.reminders import ReminderService
from .pact.run import PactRun
from .pact.service import CaseService
from .pep.sealing import LinkSealer
from .pep.subjects import PolymorphicSubjects
from .pep.transcryptor import Transcryptor
from .processing.register import ProcessingRegister
from .registry.service import OrganisationRegistry
from .reidentification.service import ReidentificationService
from .retention.policy import load_retention_policy
from .retention.purge import RetentionService
from .sealing import CONSENT_DETAILS, INZAGE_REFERENCES, MESSAGES, Sealer
from .signals.notices import MatchNotifier
from .signals.policy import load_signal_policy
from .signals.service import SignalService
from .storage.database import Database
from .telemetry import Tracing, configure, instrument_engine
from .web.sessions import SessionStore
from .web.trail import CaseIndex, WebTrail

all_models.load_all_models()

if TYPE_CHECKING:  # pysaml2 costs a second at import: only a command that signs people in pays
    from .saml.provider import ServiceProvider


class Services:
    """What one process holds: settings, storage, keys and every service over them."""

    def __init__(self, settings: Settings, clock: Clock = system_clock) -> None:
        self.settings = settings
        self.clock = clock

    def build_all(self) -> Services:
        """Build every service now (``create_app``): a failing one stops the start."""
        for name, member in vars(type(self)).items():
            if isinstance(member, cached_property):
                getattr(self, name)
        return self

    def _sealer(self, purpose: str) -> Sealer:
        """Encryption at rest under the key of one ``purpose``."""
        return Sealer(self.keys.keyring, purpose)

    # storage and keys -----------------------------------------------------------------------
    @cached_property
    def db(self) -> Database:
        return Database(self.settings.database_url)

    @cached_property
    def keys(self) -> KeyStore:
        return KeyStore(
            self.settings.keys_dir,
            allow_generate=not self.settings.is_production,
            pkcs11=self.settings.pkcs11,
        )

    @cached_property
    def registry(self) -> OrganisationRegistry:
        return OrganisationRegistry(self.db, production=self.settings.is_production)

    @cached_property
    def pseudonymiser(self) -> DomainPseudonymiser:
        return DomainPseudonymiser(self.keys.keyring)

    @cached_property
    def message_sealer(self) -> Sealer:
        return self._sealer(MESSAGES)

    @cached_property
    def inzage_references(self) -> Sealer:
        """Seals the child of a web inzage answer for its next page and downloads."""
        return self._sealer(INZAGE_REFERENCES)

    @cached_property
    def polymorphic(self) -> PolymorphicSubjects:
        return PolymorphicSubjects(
            Transcryptor(self.settings.keys_dir), LinkSealer(self.keys.keyring)
        )

    # the audit log ----------------------------------------------------------------------------
    @cached_property
    def checkpointer(self) -> Checkpointer:
        """Signs checkpoints with the audit key, named after the gateway's base URL, and
        keeps the witness of the newest one published outside the database (beside the keys,
        or at ``GATEWAY_AUDIT_WITNESS``), so a database restore cannot rewind it
        (gateway/audit/witness.py)."""
        witness = witness_for(self.settings.keys_dir, self.settings.audit_witness)
        return checkpointer_for(self.keys.audit_key, self.settings.base_url, witness)

    @cached_property
    def audit_log(self) -> AuditLog:
        """The one writer of audit events: every append of this process signs checkpoints
        and writes the processing's Logboek record in the same transaction."""
        return AuditLog(self.checkpointer, self.logboek)

    @cached_property
    def logboek(self) -> LogboekWriter:
        """The Logboek Dataverwerkingen's records, beside the audit events (gateway/logboek)."""
        return LogboekWriter(self.keys, self.settings.base_url, frozenset(GATEWAY_MESSAGE_TYPES))

    @cached_property
    def tracing(self) -> Tracing:
        """The operators' OpenTelemetry tracing (off without an endpoint), with database
        spans on this process's engine."""
        tracing = Tracing(
            endpoint=self.settings.otel_exporter_endpoint,
            service_name=self.settings.otel_service_name,
        )
        configure(tracing)
        instrument_engine(self.db.engine)
        return tracing

    @cached_property
    def audit(self) -> AuditService:
        return AuditService(
            self.db,
            self.pseudonymiser,
            self.checkpointer,
            self.clock,
            self.audit_log,
            self.polymorphic,
        )

    @cached_property
    def audit_trail(self) -> AuditTrail:
        """Audit events of consent and signal requests that the services refused."""
        return AuditTrail(self.db, self.audit_log, self.pseudonymiser, self.clock, self.polymorphic)

    # consents, exchanges, signals -----------------------------------------------------------
    @cached_property
    def consent_service(self) -> ConsentService:
        store = SqlConsentStore(
            self.db,
            self._sealer(CONSENT_DETAILS),
            self.audit_log,
            self.pseudonymiser,
        )
        return ConsentService(
            store,
            KeyStoreReceiptSigner(self.keys),
            DomainSubjects(self.pseudonymiser, "consent"),
            self.clock,
            self.settings.issuer,
            self.settings.timezone,
            knowledge=AuditKnowledge(self.db, self.pseudonymiser),
            exchanges=SqlExchangeRecord(self.db),
        )

    @cached_property
    def consents(self) -> ConsentApi:
        return ConsentApi(
            self.consent_service,
            self.audit_trail,
            self.clock,
            self.settings.timezone,
            notices=self.withdrawal_notices,
        )

    @cached_property
    def withdrawal_notices(self) -> WithdrawalNotices:
        """AVG art. 19: who received data under a withdrawn consent is told (issue 19)."""
        return WithdrawalNotices(self.db, self.message_sealer, self.audit_log, self.clock)

    @cached_property
    def retractions(self) -> RetractionService:
        """A sender's retraction of an exchange, its notice and the breach register."""
        return RetractionService(self.db, self.message_sealer, self.audit_log, self.clock)

    @cached_property
    def consent_checker(self) -> ConsentChecker:
        return CountingConsentChecker(self.consent_service)

    @cached_property
    def exchanges(self) -> ExchangeService:

        return ExchangeService(
            self.db,
            self.pseudonymiser,
            self.consent_checker,
            self.message_sealer,
            self.audit_log,
            self.clock,
            self.settings.timezone,
            self.polymorphic,
            # monitoring keeps a fact of each accepted report; then the pact's placement
            # observer reads it and closes an escalation the report ends (in this order, R2)
            observer=CompositeObserver(
                [FactRecorder(), PlacementObserver(self.pact_escalations), AdviceObserver()]
            ),
        )

    @cached_property
    def cases(self) -> CaseService:
        """The pact's cases API (issue 20): consultations and exemption advice, whose
        messages go through the exchange's own pipeline steps (gateway/pact/batch.py)."""
        return CaseService(
            self.db,
            self.exchanges,
            self.audit_log,
            self.message_sealer,
            self.clock,
            self.settings.timezone,
        )

    # the pact's workflows (issue 20) ----------------------------------------------------------
    @cached_property
    def pact_escalations(self) -> EscalationService:
        """Escalation with doorzettingsmacht: fired by the daily run, closed at a placement."""
        return EscalationService(
            self.db,
            self.pseudonymiser,
            self.message_sealer,
            self.audit_log,
            self.settings.timezone,
        )

    @cached_property
    def pact_reminders(self) -> ReminderService:
        return ReminderService(
            self.db,
            self.pseudonymiser,
            self.message_sealer,
            self.audit_log,
            self.settings.timezone,
        )

    @cached_property
    def pact_run(self) -> PactRun:
        """``gateway pact run``: consultations whose consent ended, escalations, reminders."""
        return PactRun(
            self.db,
            self.audit_log,
            self.clock,
            self.pact_escalations,
            self.pact_reminders,
            self.settings.timezone,
        )

    @cached_property
    def signals(self) -> SignalService:
        policy = load_signal_policy()
        notifier = MatchNotifier(
            self.message_sealer, self.audit_log, self.pseudonymiser, self.polymorphic, policy
        )
        return SignalService(
            self.db,
            self.pseudonymiser,
            notifier,
            self.audit_log,
            self.audit_trail,
            self.clock,
            self.settings.timezone,
        )

    @cached_property
    def reidentifications(self) -> ReidentificationService:
        return ReidentificationService(self.db, self.pseudonymiser, self.audit_log, self.clock)

    @cached_property
    def retention(self) -> RetentionService:
        """Applies gateway/policies/retention.yaml, read and checked when this is built (a
        server builds every service at start, so a bad file stops the start)."""
        return RetentionService(
            self.db,
            self.pseudonymiser,
            self.audit_log,
            self.clock,
            load_retention_policy(),
            self.settings.timezone,
        )

    @cached_property
    def processing_register(self) -> ProcessingRegister:
        """The AVG article 30 register, generated from the route policies in the database, the
        retention and signal policies (gateway/processing)."""
        return ProcessingRegister(
            self.db, self.retention.policy, self.signals.policy, self.settings.base_url
        )

    # monitoring -------------------------------------------------------------------------------
    @cached_property
    def monitoring(self) -> MonitoringService:
        return MonitoringService(
            self.db,
            load_monitoring_config(),
            self.clock,
            self.settings.timezone,
            pact=PactIndicators(self.settings.timezone),  # the pact member (design section 8)
        )

    @cached_property
    def exchange_stats(self) -> ExchangeStats:
        return ExchangeStats(self.db, self.clock, self.settings.timezone)

    # authentication ---------------------------------------------------------------------------
    @cached_property
    def oauth_store(self) -> OAuthStore:
        return OAuthStore(self.db)

    @cached_property
    def tokens(self) -> TokenService:
        return TokenService(self.keys, self.oauth_store, self.settings.issuer)

    @cached_property
    def assertions(self) -> AssertionVerifier:
        return AssertionVerifier()

    @cached_property
    def saml(self) -> ServiceProvider:
        from .saml.provider import ServiceProvider

        return ServiceProvider(self.settings, self.db, clock=self.clock).prepare(self.keys)

    @cached_property
    def web_sessions(self) -> SessionStore:
        return SessionStore(self.db, self.clock)

    @cached_property
    def web_trail(self) -> WebTrail:
        return WebTrail(self.db, self.audit_log, self.clock)

    @cached_property
    def case_index(self) -> CaseIndex:
        return CaseIndex(self.db)
