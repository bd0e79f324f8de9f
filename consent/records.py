"""What the registry holds, as plain values.

A consent names its child only by the consent-domain pseudonym (``subject_ref``). The date of
birth and the evidence reference are personal data that no rule needs after recording, so
they travel separately (:class:`PrivateDetails`) and the store keeps them encrypted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from pseudonymise import Bsn, InvalidBsnError, LinkTag

from .errors import ConsentInvalidError

#: A consent's terms as its recorder stated them (API.md section 5): fields of these names in
#: a :class:`NewConsent`, a :class:`Consent`, its receipt and the registry's row.
TERMS = ("purpose", "parties", "grantor_roles", "valid_from", "valid_until", "evidence_method")


def terms_of(source: object, listing: type = tuple) -> dict:
    """The :data:`TERMS` of ``source`` (a record or a stored row) by name, the parties and
    grantor roles as ``listing``: tuples in these records, lists in a JSON column."""
    terms = {name: getattr(source, name) for name in TERMS}
    terms["parties"] = listing(terms["parties"])
    terms["grantor_roles"] = listing(terms["grantor_roles"])
    return terms


@dataclass(frozen=True)
class Actor:
    """Who acts: an organisation (by OIN and type; ``org_id`` is its storage key) and the
    client or user acting for it."""

    org_oin: str
    org_type: str
    org_id: int | None = None
    client_id: str | None = None
    user: str | None = None


@dataclass(frozen=True)
class PrivateDetails:
    """Kept encrypted at rest; returned by no endpoint."""

    date_of_birth: date
    evidence_reference: str


@dataclass(frozen=True)
class Consent:
    """One recorded consent. Its status is derived (:mod:`consent.status`), never stored."""

    id: str
    subject_ref: str
    purpose: str
    parties: tuple[str, ...]
    grantor_roles: tuple[str, ...]
    valid_from: date
    valid_until: date
    evidence_method: str
    recorded_by: Actor
    created_at: datetime
    receipt: str = ""
    withdrawn_at: datetime | None = None
    superseded_at: datetime | None = None
    superseded_by: str | None = None
    seq: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class StatusEntry:
    """One line of a consent's history; history is only ever appended to.

    ``status`` is what the consent became by this act: its derived status when recorded
    (``active``, ``pending`` or ``expired``), ``withdrawn`` or ``superseded``. Activation
    and expiry follow from the dates and need no entry.
    """

    consent_id: str
    status: str
    at: datetime
    actor: Actor
    role: str | None = None
    reason: str | None = None
    related_consent_id: str | None = None


@dataclass(frozen=True)
class RegistryEvent:
    """What the store's audit trail records with a change, in the change's transaction;
    ``transaction_id`` is the request's FSC transaction id where there is one; ``clear_to``
    the organisations that named the child's BSN in this act (the audit index of API.md
    section 13, rule 2: a consent recorded by BSN names its recorder)."""

    action: str
    actor: Actor
    consent_id: str
    purpose: str
    subject_ref: str
    at: datetime
    transaction_id: str | None = None
    clear_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class NewConsent:
    """A consent to record, as the recorder stated it (API.md section 5)."""

    bsn: Bsn | LinkTag  # the child: its BSN, or in polymorphic mode its link tag
    date_of_birth: date
    purpose: str
    parties: tuple[str, ...]
    grantor_roles: tuple[str, ...]
    valid_from: date
    valid_until: date
    evidence_method: str
    evidence_reference: str

    @classmethod
    def from_body(cls, body: dict, link: LinkTag | None = None) -> NewConsent:
        """From a body checked by ``schemas.consent.load_consent_request``; ``link`` is the
        child's tag when the subject was polymorphic (the caller checked its proof)."""
        return cls(
            bsn=link if link is not None else child(body["subject"]["bsn"]),
            date_of_birth=date.fromisoformat(body["date_of_birth"]),
            purpose=body["purpose"],
            parties=tuple(body["parties"]),
            grantor_roles=tuple(grantor["role"] for grantor in body["granted_by"]),
            valid_from=date.fromisoformat(body["valid_from"]),
            valid_until=date.fromisoformat(body["valid_until"]),
            evidence_method=body["evidence"]["method"],
            evidence_reference=body["evidence"]["reference"],
        )


def child(digits: str) -> Bsn:
    """The BSN value type of a subject the schema accepted.

    ``pseudonymise`` also refuses a BSN whose elfproef sum is 0 (such as ``100000009``), which
    the schema's check lets through; that is a validation failure of ``subject.bsn``, not a
    server error.
    """
    try:
        return Bsn(digits)
    except InvalidBsnError:
        raise ConsentInvalidError(
            "The request body is not valid.", {"subject.bsn": ["is not a valid BSN"]}
        ) from None
