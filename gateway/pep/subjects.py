"""Subjects: the child behind a request's ``subject``, in every form a partner may name it.

:class:`SubjectResolver` is the one place where a BSN, a pseudonym of the caller's own
organisation or a polymorphic subject becomes the child (and the audit pseudonym of a refused
request); the exchange pipeline and the signals call it. A pseudonym is accepted only in the
caller's own domain: AES-SIV decryption fails for a pseudonym issued to another organisation,
so a partner cannot use someone else's.

In polymorphic mode, :class:`PolymorphicSubjects` checks what a sender proved and transcrypts
for a recipient: plain Python over the :class:`Transcryptor`; the exchange pipeline, the
consent registry, the signals and the audit subject report call it. The gateway learns a
child's *link tag* (``t*M``) and nothing else: the tag is stable per child, so internal
domains (audit, consent, match) pseudonymise it like they pseudonymise a BSN, yet without the
link secret ``t`` no one here can test a candidate BSN against it. Partners can (they hold
``t``), so a tag is kept only sealed (:mod:`gateway.pep.sealing`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pseudonymise import (
    Bsn,
    DomainPseudonymiser,
    InvalidBsnError,
    LinkTag,
    PseudonymiseError,
    organisation_domain,
)
from pseudonymise.pep import (
    CIPHERTEXT_BYTES,
    EQUALITY_PROOF_BYTES,
    LINK_PROOF_BYTES,
    ElGamal,
    PepError,
    verify_equal,
    verify_link,
)
from pseudonymise.pep.elgamal import decode_base64, encode_base64
from pseudonymise.pep.group import ELEMENT_BYTES, element
from schemas.errors import SchemaValidationError
from schemas.subject import load_subject

from ..problems import GatewayError
from ..storage.models import Organisation
from .sealing import LinkSealer, UnreadableLinkError
from .transcryptor import Transcryptor

POLYMORPHIC_BYTES = CIPHERTEXT_BYTES + ELEMENT_BYTES + LINK_PROOF_BYTES
REPLY_BYTES = CIPHERTEXT_BYTES + EQUALITY_PROOF_BYTES


class PolymorphicRefusal(Exception):
    """Why a polymorphic subject cannot be used; :meth:`problem` is its answer."""

    def __init__(self, status: int, code: str, detail: str, path: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.path = path

    @property
    def errors(self) -> dict[str, list[str]] | None:
        return {self.path: [self.detail]} if self.path else None

    def problem(self) -> GatewayError:
        return GatewayError(self.detail, code=self.code, status=self.status, errors=self.errors)


@dataclass(frozen=True)
class PolymorphicChild:
    """A child as the gateway knows it in polymorphic mode: its tag and a ciphertext."""

    link: LinkTag
    source: ElGamal
    source_oin: str | None  # None: under the master key; else under that organisation's key


class PolymorphicSubjects:
    """The checks and transformations of polymorphic subjects, in one place."""

    def __init__(self, transcryptor: Transcryptor, links: LinkSealer | None = None) -> None:
        """``links`` seals the tags that are kept; without it (services built with no keys)
        nothing polymorphic is ever stored, because no polymorphic subject is accepted."""
        self.transcryptor = transcryptor
        self.links = links

    @classmethod
    def unavailable(cls) -> PolymorphicSubjects:
        """The default of services built without one: every polymorphic subject is refused
        with ``polymorphic_unavailable``, through the same checks as a real one."""
        return cls(Transcryptor(None))

    def require_available(self) -> None:
        if self.transcryptor.state() is None:
            raise PolymorphicRefusal(
                422,
                "polymorphic_unavailable",
                "Polymorphic pseudonymisation has not been set up on this gateway "
                "(no keys issued yet).",
            )

    def require_participant(self, oin: str, enabled: bool, role: str = "sender") -> None:
        """An organisation takes part when enabled in the registry and issued keys."""
        if enabled and self.transcryptor.takes_part(oin):
            return
        if role == "recipient":
            raise PolymorphicRefusal(
                422,
                "recipient_not_polymorphic",
                "The recipient does not take part in polymorphic pseudonymisation; send it "
                "a BSN or pseudonym subject instead.",
                "recipient",
            )
        raise PolymorphicRefusal(
            403,
            "polymorphic_not_enabled",
            "Your organisation does not take part in polymorphic pseudonymisation (ask the "
            "operator to enable it and issue your key share).",
        )

    def read_polymorphic(self, value: str, sender_oin: str) -> PolymorphicChild:
        """A ``polymorphic`` subject whose link proof holds for the sender (else 422)."""
        state = self.transcryptor.state()
        try:
            raw = decode_base64(value, POLYMORPHIC_BYTES)
            ciphertext = ElGamal.from_bytes(raw[:CIPHERTEXT_BYTES])
            tag = element(raw[CIPHERTEXT_BYTES : CIPHERTEXT_BYTES + ELEMENT_BYTES])
            if ciphertext.y != state.master_public_key:
                raise PepError()
            verify_link(
                ciphertext,
                state.link_public_key,
                tag,
                raw[CIPHERTEXT_BYTES + ELEMENT_BYTES :],
                sender_oin.encode("ascii"),
            )
        except PepError:
            raise PolymorphicRefusal(
                422,
                "invalid_polymorphic",
                "Not a polymorphic pseudonym made for your organisation under the current "
                "public key, or its proof does not hold.",
                "subject.polymorphic",
            ) from None
        return PolymorphicChild(LinkTag(tag), ciphertext, None)

    def read_reply(
        self, value: str, sender_oin: str, received_in: str, delivered: bytes, sealed_link: bytes
    ) -> PolymorphicChild:
        """An ``encrypted_pseudonym`` proven equal to what the sender got in ``received_in``.

        The proof is checked against ``delivered`` (the ciphertext the sender received); the
        child's tag comes from ``sealed_link``, the tag as stored with that message (sealed)."""
        try:
            link = self.open_link(received_in, sealed_link)
        except UnreadableLinkError:
            raise PolymorphicRefusal(
                422,
                "unknown_reference",
                "received_in must name an exchange your organisation received in polymorphic mode.",
                "subject.received_in",
            ) from None
        try:
            raw = decode_base64(value, REPLY_BYTES)
            ciphertext = ElGamal.from_bytes(raw[:CIPHERTEXT_BYTES])
            if ciphertext.y != self.transcryptor.domain_public_key(sender_oin):
                raise PepError()
            context = f"{sender_oin}|{received_in}".encode("ascii")
            verify_equal(ciphertext, ElGamal.from_bytes(delivered), raw[CIPHERTEXT_BYTES:], context)
        except PepError:
            raise PolymorphicRefusal(
                422,
                "invalid_polymorphic",
                "Not your pseudonym of the child of received_in encrypted under your own "
                "public key, or its proof does not hold.",
                "subject.encrypted_pseudonym",
            ) from None
        return PolymorphicChild(link, ciphertext, sender_oin)

    def seal_link(self, message_id: str, link: LinkTag) -> bytes:
        """The tag as it may be stored with message ``message_id`` (never the raw tag)."""
        if self.links is None:
            raise RuntimeError("polymorphic subjects without a link sealer store nothing")
        return self.links.seal(message_id, link)

    def open_link(self, message_id: str, sealed: bytes) -> LinkTag:
        if self.links is None:
            raise UnreadableLinkError()
        return self.links.open(message_id, sealed)

    def require_sender(self, session: Session, org_id: int, oin: str) -> None:
        """The keys are issued, and the sender takes part (enabled in the registry)."""
        self.require_available()
        enabled = session.scalar(select(Organisation.polymorphic).where(Organisation.id == org_id))
        self.require_participant(oin, bool(enabled))

    def link_of(self, value: str, caller_oin: str) -> LinkTag:
        """The child's tag from a ``polymorphic`` subject of a consent, signal or subject
        report: the keys must be issued and the proof must hold for the caller."""
        self.require_available()
        return self.read_polymorphic(value, caller_oin).link

    def deliver(self, child: PolymorphicChild, recipient_oin: str) -> tuple[dict, bytes]:
        """The recipient's subject ``{"encrypted_pseudonym"}`` and its raw 96 bytes."""
        result = self.transcryptor.transcrypt(child.source, child.source_oin, recipient_oin)
        raw = result.to_bytes()
        return {"encrypted_pseudonym": encode_base64(raw)}, raw


class UnknownPseudonym(GatewayError):
    """A pseudonym that was not issued to the caller's organisation."""

    status, code = 422, "unknown_pseudonym"

    def __init__(self) -> None:
        super().__init__(
            "The pseudonym was not issued to your organisation.",
            errors={"subject.pseudonym": ["Unknown pseudonym for your organisation."]},
        )


class InvalidBsn(GatewayError):
    """A BSN the schema let through that is still not one (the elfproef's sum of 0)."""

    status, code = 422, "validation_failed"

    def __init__(self) -> None:
        super().__init__(
            "The request body is not valid.", errors={"subject.bsn": ["is not a valid BSN"]}
        )


class SubjectResolver:
    """Who a request's subject names: the one resolver of the exchanges and the signals."""

    def __init__(
        self,
        pseudonymiser: DomainPseudonymiser,
        polymorphic: PolymorphicSubjects | None = None,
        audit_domain: str = "audit",
    ) -> None:
        self.pseudonymiser = pseudonymiser
        self.polymorphic = polymorphic or PolymorphicSubjects.unavailable()
        self.audit_domain = audit_domain

    @staticmethod
    def is_polymorphic(subject: dict) -> bool:
        return "polymorphic" in subject or "encrypted_pseudonym" in subject

    def bsn_of(self, subject: dict, caller_oin: str) -> Bsn:
        """The BSN of a ``bsn`` or ``pseudonym`` subject whose syntax the schema checked;
        a pseudonym counts only in the caller's own domain (else ``unknown_pseudonym``)."""
        if "bsn" in subject:
            try:
                return Bsn(subject["bsn"])
            except InvalidBsnError:
                raise InvalidBsn() from None
        try:
            return self.pseudonymiser.reveal(subject["pseudonym"], organisation_domain(caller_oin))
        except PseudonymiseError:
            raise UnknownPseudonym() from None

    def audit_ref(self, subject: object, caller_oin: str) -> str | None:
        """The audit pseudonym of a refused request that named a syntactically valid subject
        of the caller (a BSN, its own pseudonym, a polymorphic subject whose proof holds);
        None for anything else, a reply by encrypted pseudonym included."""
        try:
            loaded = load_subject(subject)
            if "encrypted_pseudonym" in loaded:
                return None
            if "polymorphic" in loaded:
                link = self.polymorphic.link_of(loaded["polymorphic"], caller_oin)
                return self.pseudonymiser.pseudonymise_link(link, self.audit_domain)
            bsn = self.bsn_of(loaded, caller_oin)
            return self.pseudonymiser.pseudonymise(bsn, self.audit_domain)
        except (SchemaValidationError, PolymorphicRefusal, GatewayError):
            return None
