"""The exchange pipeline: an ordered list of named privacy steps over one ``Exchange``.

Steps run in the order of API.md section 4; the first that refuses answers. The token is
checked by the HTTP layer (it is the first entry of ``Exchange.steps_run``); every other step,
the scope, the body and the idempotency key included, is one function with the :data:`Step`
signature in :data:`STEPS`, and :func:`run` is the one place that records which steps ran.
Every refusal, whichever step made it, is audited once, by
:meth:`gateway.exchange.service.ExchangeService.send`. Adding a privacy step means adding one
function to :data:`STEPS`. Consent and pseudonymisation fail closed. The BSN lives only in
``Exchange.bsn`` (a masked value type) and never leaves. In polymorphic mode there is no BSN
at all: ``Exchange.pep`` holds the child's link tag and a ciphertext the gateway cannot open
(:mod:`gateway.pep.subjects`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from consent.interfaces import ConsentChecker, Party
from pseudonymise import Bsn, DomainPseudonymiser, LinkTag, organisation_domain
from pseudonymise.keys import KeyRing
from schemas.address import is_role_address
from schemas.errors import SchemaValidationError
from schemas.exchange import load_exchange_envelope
from schemas.messages import load_payload
from schemas.profiles import Minimised, minimise
from schemas.subject import load_subject
from schemas.vocabulary import CASE_MESSAGE_TYPES, NOTICE_TYPES

from .. import metrics, telemetry
from ..pep.subjects import (
    PolymorphicChild,
    PolymorphicRefusal,
    PolymorphicSubjects,
    SubjectResolver,
)
from ..problems import GatewayError
from ..registry.areas import resolve_address
from ..storage import direct
from ..storage.models import Organisation
from . import correlation, idempotency, lookups
from .errors import (
    ConsentRefused,
    InsufficientScope,
    RecipientSuspended,
    Refusal,
    RouteNotAllowed,
    UnknownRecipient,
    UnknownReference,
    ValidationFailed,
)
from .models import Message
from .routes import RoutePolicies, RoutePolicy

SEND_SCOPE = "exchange:send"
_RECIPIENT = select(
    Organisation.id,
    Organisation.oin,
    Organisation.type,
    Organisation.name,
    Organisation.status,
    Organisation.polymorphic,
).where(Organisation.oin == bindparam("oin"))
"""The recipient by OIN, built once (building a select cost more than running it, issue 23)."""
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
    fsc_transaction_id: str
    now: datetime
    today: date
    scopes: frozenset[str] = frozenset()
    key_header: str | None = None
    body: dict = field(default_factory=dict)
    idempotency_key: str | None = None
    request_hash: idempotency.RequestHash | None = None
    replay: dict | None = None  # the stored answer of an idempotent repeat
    looked_up: lookups.Lookups | None = None  # the rows of steps 4 to 8, read at step 4
    message_type: str | None = None
    recipient: OrgRef | None = None
    transaction_bound: bool = False  # the transaction id is bound to this recipient already
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
    steps_run: list[str] = field(default_factory=lambda: ["token"])

    @property
    def child(self) -> Bsn | LinkTag:
        """Who the exchange is about: the BSN, or in polymorphic mode the link tag."""
        return self.pep.link if self.pep is not None else self.bsn

    @property
    def recipient_oin(self) -> str | None:
        """The recipient's OIN as the body gives it (None for a role address)."""
        value = self.body.get("recipient") if isinstance(self.body, dict) else None
        return value if isinstance(value, str) else None

    @property
    def recipient_address(self) -> dict | None:
        """The role address the body gives instead of an OIN (issue 20), or None."""
        value = self.body.get("recipient") if isinstance(self.body, dict) else None
        return value if is_role_address(value) else None


@dataclass
class PipelineContext:
    session: Session
    routes: RoutePolicies
    pseudonymiser: DomainPseudonymiser
    consent: ConsentChecker
    polymorphic: PolymorphicSubjects = field(default_factory=PolymorphicSubjects.unavailable)
    read_body: Callable[[], object] = dict
    keyring: KeyRing | None = None  # keys the idempotency record's request hash

    @property
    def subjects(self) -> SubjectResolver:
        return SubjectResolver(self.pseudonymiser, self.polymorphic, AUDIT_DOMAIN)


Step = Callable[[Exchange, PipelineContext], None]


def check_scope(exchange: Exchange, ctx: PipelineContext) -> None:
    """Step 2: the token carries ``exchange:send``. Any valid token reaches the send, so that
    this refusal is audited with the others; the answer is the protector's own."""
    if SEND_SCOPE not in exchange.scopes:
        metrics.AUTH_FAILURES.labels("bearer", "insufficient_scope").inc()
        raise InsufficientScope(SEND_SCOPE)


def read_body(exchange: Exchange, ctx: PipelineContext) -> None:
    """Step 3: the body as the HTTP layer reads it (content type, size, JSON, transaction id
    syntax); its problem is the answer."""
    exchange.body = _answered(ctx.read_body)


def check_idempotency(exchange: Exchange, ctx: PipelineContext) -> None:
    """Step 4: a well-formed ``Idempotency-Key``; a repeat with the same key and body gets the
    stored answer (``Exchange.replay``, after which no step runs), another body 409."""
    exchange.idempotency_key = idempotency.check_key(exchange.key_header)
    exchange.request_hash = idempotency.RequestHash(ctx.keyring, exchange.body)
    # this step's row and those of steps 6 to 8, in one statement (gateway.exchange.lookups)
    body = exchange.body if isinstance(exchange.body, dict) else {}
    exchange.looked_up = lookups.fetch(
        ctx.session,
        exchange.sender.id,
        exchange.sender.type,
        exchange.idempotency_key,
        exchange.recipient_oin,
        exchange.fsc_transaction_id,
        body.get("message_type"),
    )
    exchange.replay = idempotency.answer_of(
        ctx.session,
        exchange.looked_up.stored,
        exchange.sender.id,
        exchange.idempotency_key,
        exchange.request_hash,
        exchange.now,
    )


def check_envelope(exchange: Exchange, ctx: PipelineContext) -> None:
    """Step 5: the body's shape (known type, 20-digit recipient, one subject, an object)."""
    try:
        envelope = load_exchange_envelope(exchange.body)
    except SchemaValidationError as exc:
        raise ValidationFailed(exc.errors) from None
    exchange.message_type = envelope["message_type"]
    if exchange.message_type in CASE_MESSAGE_TYPES:
        # the case service sends these through the same steps, as part of a case (issue 20)
        raise RouteNotAllowed(
            f"{exchange.message_type} is sent through /api/v1/cases, not as an exchange."
        )


def find_recipient(exchange: Exchange, ctx: PipelineContext) -> None:
    """Steps 6 and 7: the recipient is a known, active organisation.

    A role address (``{"type": "leerplicht", "municipality": "0014"}``) is resolved here
    through the registry (404 ``recipient_unresolved``, 409 ``recipient_ambiguous``): before
    the transaction id, the route and anything about the child, so that the answer depends on
    the address and the registry alone and cannot tell anything about the child."""
    address = exchange.recipient_address
    if address is not None:
        organisation = _answered(resolve_address, ctx.session, address)
        exchange.recipient = OrgRef(*organisation)
        if organisation.status != "active":
            raise RecipientSuspended("The recipient organisation is suspended.")
        return
    organisation = _read(exchange).recipient_for(exchange.recipient_oin)
    if organisation is lookups.NOT_READ:
        organisation = direct.execute(
            ctx.session, _RECIPIENT, {"oin": exchange.recipient_oin}
        ).first()
    if organisation is None:
        raise UnknownRecipient("No organisation has this OIN.")
    exchange.recipient = OrgRef(*organisation)
    if organisation.status != "active":
        raise RecipientSuspended("The recipient organisation is suspended.")


def check_transaction_id(exchange: Exchange, ctx: PipelineContext) -> None:
    """Step 7a: the sender's ``Fsc-Transaction-Id`` was not passed to another recipient
    (API.md section 13 rule 1). It needs only the sender, the id and the recipient, so it runs
    as soon as the recipient is known, before anything is done with the child; the binding
    is made where the message is stored (:func:`correlation.bind`), unless the id is
    bound to this recipient already."""
    sender_id, transaction_id = exchange.sender.id, exchange.fsc_transaction_id
    bound = _read(exchange).bound_for(sender_id, transaction_id)
    if bound is lookups.NOT_READ:
        bound = correlation.bound_recipient(ctx.session, sender_id, transaction_id)
    exchange.transaction_bound = correlation.judge(bound, exchange.recipient.id)


def check_route(exchange: Exchange, ctx: PipelineContext) -> None:
    """Step 8: deny by default; only a route policy allows a sender/recipient/type."""
    wanted = (exchange.message_type, exchange.sender.type, exchange.recipient.type)
    row = _read(exchange).route_for(*wanted)
    route = ctx.routes.find(ctx.session, *wanted) if row is lookups.NOT_READ else (
        ctx.routes.policy_of(row)
    )
    if route is None:
        raise RouteNotAllowed(
            f"A {exchange.sender.type} may not send {exchange.message_type} "
            f"to a {exchange.recipient.type}."
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
        raise ValidationFailed(errors)


def resolve_subject(exchange: Exchange, ctx: PipelineContext) -> None:
    """Step 10: find the child behind the subject (:class:`SubjectResolver`: a pseudonym
    counts only in the sender's own domain), and check ``in_reply_to``."""
    subject = exchange.body["subject"]
    if ctx.subjects.is_polymorphic(subject):
        _resolve_polymorphic(exchange, ctx, subject)
    else:
        exchange.bsn = _answered(ctx.subjects.bsn_of, subject, exchange.sender.oin)
        if "pseudonym" in subject:
            metrics.PSEUDONYMISATIONS.labels("organisation", "reveal").inc()
    exchange.subject_ref = ctx.pseudonymiser.pseudonymise_child(exchange.child, AUDIT_DOMAIN)
    metrics.PSEUDONYMISATIONS.labels("audit", "issue").inc()
    reply_to = exchange.payload.get("in_reply_to")
    if reply_to is None:
        return
    # the original may have been stored under an older master key version (rotation)
    refs = ctx.pseudonymiser.pseudonymise_child_versions(exchange.child, AUDIT_DOMAIN)
    if _received(exchange, ctx, reply_to, Message.id, where=(Message.subject_ref.in_(refs),)):
        return
    raise UnknownReference(
        "in_reply_to must name an exchange you received about the same child.",
        errors={"payload.in_reply_to": ["Unknown exchange for this child."]},
    )


def _resolve_polymorphic(exchange: Exchange, ctx: PipelineContext, subject: dict) -> None:
    """Polymorphic mode: both parties take part, the route allows it, the proof holds."""
    service = ctx.polymorphic
    try:
        service.require_sender(ctx.session, exchange.sender.id, exchange.sender.oin)
        _require_polymorphic_route(exchange.route)
        service.require_participant(
            exchange.recipient.oin, exchange.recipient.polymorphic, role="recipient"
        )
        exchange.pep_checked = True
        if "polymorphic" in subject:
            exchange.pep = service.read_polymorphic(subject["polymorphic"], exchange.sender.oin)
        else:
            exchange.pep = _read_reply(exchange, ctx, service, subject)
    except PolymorphicRefusal as refusal:
        raise Refusal.answered_by(refusal.problem()) from None
    metrics.PSEUDONYMISATIONS.labels("polymorphic", "verify").inc()


def _require_polymorphic_route(route: RoutePolicy) -> None:
    if route.identity == "bsn":
        raise PolymorphicRefusal(
            422,
            "bsn_required",
            "This route gives the recipient the BSN by law, so it cannot be sent in "
            "polymorphic mode; send the BSN.",
            "subject",
        )
    if not route.polymorphic:
        raise PolymorphicRefusal(
            422,
            "polymorphic_not_allowed",
            "The route policy does not allow polymorphic mode for this message type.",
            "subject",
        )


def _read_reply(
    exchange: Exchange, ctx: PipelineContext, service: PolymorphicSubjects, subject: dict
) -> PolymorphicChild:
    """The child of an exchange the sender received in polymorphic mode, by its pseudonym."""
    received = _received(
        exchange,
        ctx,
        subject["received_in"],
        Message.pep_link,
        Message.pep_delivered,
        where=(Message.pep_delivered.is_not(None),),
    )
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


def _received(exchange: Exchange, ctx: PipelineContext, message_id: str, *columns, where=()):
    """``columns`` of the message ``message_id`` if the sender received it, else None.

    A retracted exchange and a notice are not messages one can reply to (issue 19): the one
    was taken back (perhaps it was about another child), the other is no case message."""
    return ctx.session.execute(
        select(*columns).where(
            Message.id == message_id,
            Message.recipient_org_id == exchange.sender.id,
            Message.status != "retracted",
            Message.message_type.not_in(NOTICE_TYPES),
            *where,
        )
    ).first()


CONSENT_REFUSALS = {
    "consent_missing": "No valid consent covers this exchange.",
    "consent_withdrawn": "The consent for this exchange was withdrawn.",
    "consent_expired": "The consent for this exchange has expired.",
}


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
    replied = _received(exchange, ctx, reply_to, Message.consent_id) if reply_to else None
    decision = ctx.consent.check(
        ctx.pseudonymiser.pseudonymise_child(exchange.child, CONSENT_DOMAIN),
        exchange.route.purpose,
        Party(exchange.sender.oin, exchange.sender.type),
        Party(exchange.recipient.oin, exchange.recipient.type),
        exchange.now,
        replying_under=replied.consent_id if replied else None,
    )
    if not decision.allowed:
        code = decision.code or "consent_missing"
        detail = CONSENT_REFUSALS.get(code, CONSENT_REFUSALS["consent_missing"])
        raise ConsentRefused(detail, code=code)
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
    ("scope", check_scope),
    ("body", read_body),
    ("idempotency", check_idempotency),
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
STORE = "store"
"""The last step, storing the message: :class:`~gateway.exchange.service.ExchangeService`
runs it in a transaction of its own, and the event it stores lists it (:func:`steps`)."""


def _read(exchange: Exchange) -> lookups.Lookups:
    """The rows step 4 read, or none (an exchange whose steps began later: a case's)."""
    return exchange.looked_up or lookups.NOTHING


def run(exchange: Exchange, ctx: PipelineContext) -> None:
    """Run every step in order, recording each that passed in ``exchange.steps_run`` (the one
    place that list grows); a :class:`Refusal` stops the pipeline, and so does an idempotent
    repeat (``exchange.replay`` is then the answer)."""
    for name, step in STEPS:
        with telemetry.span(f"pipeline.{name}"):  # operators' tracing: the step's name only
            step(exchange, ctx)
        if exchange.replay is not None:
            return
        exchange.steps_run.append(name)


def steps(exchange: Exchange, stored: bool = False) -> tuple[str, ...]:
    """The steps an audit event lists: those that ran, and the store for a stored message."""
    return (*exchange.steps_run, STORE) if stored else tuple(exchange.steps_run)


def _answered(call: Callable, *args):
    """``call(*args)``; a problem it raises becomes a refusal answered by that problem."""
    try:
        return call(*args)
    except Refusal:
        raise
    except GatewayError as error:
        raise Refusal.answered_by(error) from None


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


def best_effort_subject_ref(exchange: Exchange, subjects: SubjectResolver) -> str | None:
    """The audit pseudonym for a refused request that named a syntactically valid subject.

    A polymorphic subject counts once its proof holds (its tag is then known); a reply by
    encrypted pseudonym only once step 10 checked it (``exchange.subject_ref`` is then set).
    A proof that step 10 already checked and refused is not checked a second time here.
    """
    if exchange.subject_ref:
        return exchange.subject_ref
    if exchange.pep_checked:
        return None
    subject = exchange.body.get("subject") if isinstance(exchange.body, dict) else None
    return subjects.audit_ref(subject, exchange.sender.oin)
