"""The exchange pipeline: an ordered list of named privacy steps over one ``Exchange``.

Steps run in the order of API.md section 4; the first that refuses answers. The token is
checked by the HTTP layer; scope, body parsing and the idempotency key by
:meth:`gateway.exchange.service.ExchangeService.send` just before the pipeline runs (they are
listed in ``Exchange.steps_run`` all the same), and every refusal, whichever step made it, is
audited once, by ``send``. Adding a privacy step means adding
one function with the :data:`Step` signature to :data:`STEPS`. Consent and pseudonymisation
fail closed. The BSN lives only in ``Exchange.bsn`` (a masked value type) and never leaves.
In polymorphic mode there is no BSN at all: ``Exchange.pep`` holds the child's link tag and a
ciphertext the gateway cannot open (:mod:`gateway.pep.subjects`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.interfaces import ConsentChecker, Party
from pseudonymise import (
    Bsn,
    DomainPseudonymiser,
    LinkTag,
    PseudonymiseError,
    organisation_domain,
)
from schemas.errors import SchemaValidationError
from schemas.exchange import load_exchange_envelope
from schemas.messages import load_payload
from schemas.profiles import Minimised, minimise
from schemas.subject import load_subject

from .. import metrics
from ..pep.subjects import PolymorphicChild, PolymorphicRefusal, PolymorphicSubjects
from ..storage.models import Organisation
from . import correlation
from .errors import Refusal
from .models import Message
from .routes import RoutePolicies, RoutePolicy

AUDIT_DOMAIN = "audit"
CONSENT_DOMAIN = "consent"


@dataclass(frozen=True)
class OrgRef:
    id: int
    oin: str
    type: str
    name: str
    status: str
    polymorphic: bool = False


@dataclass
class Exchange:
    """One send request as it moves through the steps."""

    sender: OrgRef
    sender_client_id: str
    body: dict
    fsc_transaction_id: str
    now: datetime
    today: date
    message_type: str | None = None
    recipient: OrgRef | None = None
    route: RoutePolicy | None = None
    payload: dict | None = None
    bsn: Bsn | None = None
    pep: PolymorphicChild | None = None
    pep_checked: bool = False  # step 10 looked at the proof (it held, or the answer says not)
    pep_delivered: bytes | None = None
    subject_ref: str | None = None
    consent_id: str | None = None
    delivered_subject: dict | None = None
    minimised: Minimised | None = None
    steps_run: list[str] = field(default_factory=lambda: ["token", "scope", "body"])

    @property
    def child(self) -> Bsn | LinkTag:
        """Who the exchange is about: the BSN, or in polymorphic mode the link tag."""
        return self.pep.link if self.pep is not None else self.bsn

    @property
    def recipient_oin(self) -> str | None:
        value = self.body.get("recipient")
        return value if isinstance(value, str) else None


@dataclass
class PipelineContext:
    session: Session
    routes: RoutePolicies
    pseudonymiser: DomainPseudonymiser
    consent: ConsentChecker
    polymorphic: PolymorphicSubjects = field(default_factory=PolymorphicSubjects.unavailable)


Step = Callable[[Exchange, PipelineContext], None]


def check_envelope(exchange: Exchange, ctx: PipelineContext) -> None:
    """Step 5: the body's shape (known type, 20-digit recipient, one subject, an object)."""
    try:
        envelope = load_exchange_envelope(exchange.body)
    except SchemaValidationError as exc:
        raise Refusal(
            422, "validation_failed", "The request body is not valid.", exc.errors
        ) from None
    exchange.message_type = envelope["message_type"]


def find_recipient(exchange: Exchange, ctx: PipelineContext) -> None:
    """Steps 6 and 7: the recipient is a known, active organisation."""
    organisation = ctx.session.execute(
        select(
            Organisation.id,
            Organisation.oin,
            Organisation.type,
            Organisation.name,
            Organisation.status,
            Organisation.polymorphic,
        ).where(Organisation.oin == exchange.recipient_oin)
    ).first()
    if organisation is None:
        raise Refusal(404, "unknown_recipient", "No organisation has this OIN.")
    exchange.recipient = OrgRef(*organisation)
    if organisation.status != "active":
        raise Refusal(403, "recipient_suspended", "The recipient organisation is suspended.")


def check_transaction_id(exchange: Exchange, ctx: PipelineContext) -> None:
    """Step 7a: the sender's ``Fsc-Transaction-Id`` was not passed to another recipient
    (API.md section 13 rule 1). It needs only the sender, the id and the recipient, so it runs
    as soon as the recipient is known, before anything is done with the child; the binding
    check is repeated where the message is stored (:func:`correlation.claim`)."""
    correlation.check(
        ctx.session, exchange.sender.id, exchange.fsc_transaction_id, exchange.recipient.id
    )


def check_route(exchange: Exchange, ctx: PipelineContext) -> None:
    """Step 8: deny by default; only a route policy allows a sender/recipient/type."""
    route = ctx.routes.find(
        ctx.session, exchange.message_type, exchange.sender.type, exchange.recipient.type
    )
    if route is None:
        raise Refusal(
            403,
            "route_not_allowed",
            f"A {exchange.sender.type} may not send {exchange.message_type} "
            f"to a {exchange.recipient.type}.",
        )
    exchange.route = route


def check_schema(exchange: Exchange, ctx: PipelineContext) -> None:
    """Step 9: the payload's schema, the subject's syntax and the BSN's elfproef."""
    errors: dict[str, list[str]] = {}
    try:
        exchange.payload = load_payload(
            exchange.message_type, exchange.body["payload"], exchange.today
        )
    except SchemaValidationError as exc:
        errors.update(exc.errors)
    try:
        load_subject(exchange.body["subject"])
    except SchemaValidationError as exc:
        errors.update(exc.errors)
    if errors:
        raise Refusal(422, "validation_failed", "The request body is not valid.", errors)


def resolve_subject(exchange: Exchange, ctx: PipelineContext) -> None:
    """Step 10: find the child behind the subject, and check ``in_reply_to``.

    A pseudonym is accepted only in the sender's own domain: AES-SIV decryption fails for a
    pseudonym issued to another organisation, so a partner cannot use someone else's.
    """
    subject = exchange.body["subject"]
    if "polymorphic" in subject or "encrypted_pseudonym" in subject:
        _resolve_polymorphic(exchange, ctx, subject)
    elif "bsn" in subject:
        exchange.bsn = Bsn(subject["bsn"])
    else:
        try:
            exchange.bsn = ctx.pseudonymiser.reveal(
                subject["pseudonym"], organisation_domain(exchange.sender.oin)
            )
            metrics.PSEUDONYMISATIONS.labels("organisation", "reveal").inc()
        except PseudonymiseError:
            raise Refusal(
                422,
                "unknown_pseudonym",
                "The pseudonym was not issued to your organisation.",
                {"subject.pseudonym": ["Unknown pseudonym for your organisation."]},
            ) from None
    exchange.subject_ref = ctx.pseudonymiser.pseudonymise_child(exchange.child, AUDIT_DOMAIN)
    metrics.PSEUDONYMISATIONS.labels("audit", "issue").inc()
    reply_to = exchange.payload.get("in_reply_to")
    if reply_to is not None:
        # the original may have been stored under an older master key version (rotation)
        refs = ctx.pseudonymiser.pseudonymise_child_versions(exchange.child, AUDIT_DOMAIN)
        original = ctx.session.scalars(
            select(Message.id).where(
                Message.id == reply_to,
                Message.recipient_org_id == exchange.sender.id,
                Message.subject_ref.in_(refs),
            )
        ).first()
        if original is None:
            raise Refusal(
                422,
                "unknown_reference",
                "in_reply_to must name an exchange you received about the same child.",
                {"payload.in_reply_to": ["Unknown exchange for this child."]},
            )


def _resolve_polymorphic(exchange: Exchange, ctx: PipelineContext, subject: dict) -> None:
    """Polymorphic mode: both parties take part, the route allows it, the proof holds."""
    service = ctx.polymorphic
    try:
        service.require_available()
        sender_enabled = ctx.session.scalar(
            select(Organisation.polymorphic).where(Organisation.id == exchange.sender.id)
        )
        service.require_participant(exchange.sender.oin, bool(sender_enabled))
        if exchange.route.identity == "bsn":
            raise PolymorphicRefusal(
                422,
                "bsn_required",
                "This route gives the recipient the BSN by law, so it cannot be sent in "
                "polymorphic mode; send the BSN.",
                "subject",
            )
        if not exchange.route.polymorphic:
            raise PolymorphicRefusal(
                422,
                "polymorphic_not_allowed",
                "The route policy does not allow polymorphic mode for this message type.",
                "subject",
            )
        service.require_participant(
            exchange.recipient.oin, exchange.recipient.polymorphic, role="recipient"
        )
        exchange.pep_checked = True
        if "polymorphic" in subject:
            exchange.pep = service.read_polymorphic(subject["polymorphic"], exchange.sender.oin)
        else:
            exchange.pep = _read_reply(exchange, ctx, service, subject)
    except PolymorphicRefusal as refusal:
        raise Refusal(refusal.status, refusal.code, refusal.detail, refusal.errors) from None
    metrics.PSEUDONYMISATIONS.labels("polymorphic", "verify").inc()


def _read_reply(
    exchange: Exchange, ctx: PipelineContext, service: PolymorphicSubjects, subject: dict
) -> PolymorphicChild:
    """The child of an exchange the sender received in polymorphic mode, by its pseudonym."""
    received = ctx.session.execute(
        select(Message.pep_link, Message.pep_delivered).where(
            Message.id == subject["received_in"],
            Message.recipient_org_id == exchange.sender.id,
            Message.pep_delivered.is_not(None),
        )
    ).first()
    if received is None:
        raise PolymorphicRefusal(
            422,
            "unknown_reference",
            "received_in must name an exchange your organisation received in polymorphic mode.",
            "subject.received_in",
        )
    return service.read_reply(
        subject["encrypted_pseudonym"],
        exchange.sender.oin,
        subject["received_in"],
        received.pep_delivered,
        received.pep_link,
    )


def check_legal_basis(exchange: Exchange, ctx: PipelineContext) -> None:
    """Step 11: a legal obligation named in the policy, or a covering consent (fail closed).

    A reply passes the consent of the exchange it answers (``in_reply_to``, which step 10
    checked names an exchange the sender received about this child): a party given by type
    may send under a consent only such a reply (API.md section 13, rule 3).
    """
    if not exchange.route.needs_consent:
        return
    metrics.PSEUDONYMISATIONS.labels("consent", "issue").inc()
    reply_to = exchange.payload.get("in_reply_to")
    replying_under = None
    if reply_to is not None:
        replying_under = ctx.session.scalar(
            select(Message.consent_id).where(
                Message.id == reply_to, Message.recipient_org_id == exchange.sender.id
            )
        )
    decision = ctx.consent.check(
        ctx.pseudonymiser.pseudonymise_child(exchange.child, CONSENT_DOMAIN),
        exchange.route.purpose,
        Party(exchange.sender.oin, exchange.sender.type),
        Party(exchange.recipient.oin, exchange.recipient.type),
        exchange.now,
        replying_under=replying_under,
    )
    if not decision.allowed:
        code = decision.code or "consent_missing"
        details = {
            "consent_missing": "No valid consent covers this exchange.",
            "consent_withdrawn": "The consent for this exchange was withdrawn.",
            "consent_expired": "The consent for this exchange has expired.",
        }
        raise Refusal(403, code, details.get(code, "No valid consent covers this exchange."))
    exchange.consent_id = decision.consent_id


def pseudonymise_subject(exchange: Exchange, ctx: PipelineContext) -> None:
    """The recipient gets the BSN only where the route names a legal basis for it;
    otherwise its own, stable pseudonym for this child. In polymorphic mode that pseudonym
    is encrypted for the recipient alone, and the gateway never sees it."""
    if exchange.pep is not None:
        exchange.delivered_subject, exchange.pep_delivered = ctx.polymorphic.deliver(
            exchange.pep, exchange.recipient.oin
        )
        metrics.PSEUDONYMISATIONS.labels("polymorphic", "transcrypt").inc()
    elif exchange.route.identity == "bsn":
        exchange.delivered_subject = {"bsn": exchange.bsn.digits}
    else:
        domain = organisation_domain(exchange.recipient.oin)
        exchange.delivered_subject = {
            "pseudonym": ctx.pseudonymiser.pseudonymise(exchange.bsn, domain)
        }
        metrics.PSEUDONYMISATIONS.labels("organisation", "issue").inc()


def minimise_payload(exchange: Exchange, ctx: PipelineContext) -> None:
    """Keep only what the route's recipient profile names; generalise where it says."""
    exchange.minimised = minimise(exchange.payload, exchange.route.profile)


STEPS: list[tuple[str, Step]] = [
    ("envelope", check_envelope),
    ("recipient", find_recipient),
    ("transaction_id", check_transaction_id),
    ("route", check_route),
    ("schema", check_schema),
    ("subject", resolve_subject),
    ("legal_basis", check_legal_basis),
    ("pseudonymise", pseudonymise_subject),
    ("minimise", minimise_payload),
]


def run(exchange: Exchange, ctx: PipelineContext) -> None:
    """Run every step in order; a :class:`Refusal` stops the pipeline."""
    for name, step in STEPS:
        step(exchange, ctx)
        exchange.steps_run.append(name)


_CLEAR_FORMS = ("bsn", "polymorphic")


def subject_naming(exchange: Exchange, accepted: bool) -> dict[str, tuple[str, ...]]:
    """Who named or received the child in which form (the audit index of rule 2,
    docs/audit-design.md): the sender in the form it sent (a polymorphic subject is made from
    the BSN), and for an accepted exchange the recipient in the form it is delivered."""
    clear: list[str] = []
    pseudonymous: list[str] = []
    subject = exchange.body.get("subject") if isinstance(exchange.body, dict) else None
    if isinstance(subject, dict):
        named = clear if any(form in subject for form in _CLEAR_FORMS) else pseudonymous
        named.append(exchange.sender.oin)
    if accepted and exchange.delivered_subject is not None and exchange.recipient is not None:
        got = clear if "bsn" in exchange.delivered_subject else pseudonymous
        got.append(exchange.recipient.oin)
    return {"clear_to": tuple(clear), "pseudonym_to": tuple(pseudonymous)}


def best_effort_subject_ref(
    exchange: Exchange, pseudonymiser: DomainPseudonymiser, polymorphic: PolymorphicSubjects
) -> str | None:
    """The audit pseudonym for a refused request that named a syntactically valid subject.

    A polymorphic subject counts once its proof holds (its tag is then known); a reply by
    encrypted pseudonym only once step 10 checked it (``exchange.subject_ref`` is then set).
    A proof that step 10 already checked and refused is not checked a second time here.
    """
    if exchange.subject_ref:
        return exchange.subject_ref
    subject = exchange.body.get("subject") if isinstance(exchange.body, dict) else None
    try:
        loaded = load_subject(subject)
        if "polymorphic" in loaded:
            if exchange.pep_checked or polymorphic.transcryptor.state() is None:
                return None
            child = polymorphic.read_polymorphic(loaded["polymorphic"], exchange.sender.oin)
            return pseudonymiser.pseudonymise_link(child.link, AUDIT_DOMAIN)
        if "encrypted_pseudonym" in loaded:
            return None
        if "bsn" in loaded:
            return pseudonymiser.pseudonymise(Bsn(loaded["bsn"]), AUDIT_DOMAIN)
        bsn = pseudonymiser.reveal(loaded["pseudonym"], organisation_domain(exchange.sender.oin))
        return pseudonymiser.pseudonymise(bsn, AUDIT_DOMAIN)
    except (SchemaValidationError, PseudonymiseError, PolymorphicRefusal):
        return None
