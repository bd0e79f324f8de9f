"""The consent registry for privacy officers: search by BSN, view, withdraw.

Same service as the API (:class:`consent.service.ConsentService`), with the web user as the
actor, so the registry's own audit events carry ``actor.user``, and the same rules of API.md
section 13. A partner's privacy officer finds by BSN what its organisation recorded, and the
consents naming it by OIN once it had the child's BSN from the gateway or sent it (rule 2);
opens a consent its API clients could open; withdraws as they could (rule 3: the recorder or
a party named by OIN). The operator's privacy officers see every consent of the child and
may withdraw any (the operator answers for the registry as a whole). Reads and searches are
audited here (``consent.search``, ``consent.read``), with the child named only by the
audit-domain pseudonym.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from consent.errors import ConsentError
from consent.matching import may_withdraw
from consent.records import Actor, Consent
from consent.service import party_of
from pseudonymise import Bsn, InvalidBsnError
from schemas.consent import load_consent_withdrawal
from schemas.errors import SchemaValidationError

from ..audit.log import AuditEvent
from ..services import services
from . import vocabulary
from .errors import WebError

PURPOSE_NAMES = vocabulary.PURPOSES
STATUS_NAMES = vocabulary.CONSENT_STATUSES
ROLE_NAMES = vocabulary.GRANTOR_ROLES
#: The groups of the search result, in the order the page shows them: what counts today first.
GROUPS = (
    ("active", "Geldig"),
    ("pending", "Nog niet ingegaan"),
    ("withdrawn", "Ingetrokken"),
    ("expired", "Verlopen"),
    ("superseded", "Vervangen door een nieuwere toestemming"),
)


@dataclass(frozen=True)
class ConsentView:
    """A consent as the page shows it; ``withdrawable`` when this user's organisation may
    withdraw it (:func:`consent.matching.may_withdraw`) and it is still in force or to come."""

    consent: Consent
    status: str
    may_withdraw: bool

    @property
    def withdrawable(self) -> bool:
        return self.may_withdraw and self.status in ("active", "pending")


def grouped(views: list[ConsentView]) -> list[tuple[str, str, list[ConsentView]]]:
    """``(status, heading, views)`` per status in :data:`GROUPS` order, newest first within
    a group, empty groups left out: an officer sees the consent that counts at the top."""
    groups = []
    for status, heading in GROUPS:
        members = [view for view in views if view.status == status]
        members.sort(key=lambda view: view.consent.created_at, reverse=True)
        if members:
            groups.append((status, heading, members))
    return groups


def organisation_names() -> dict[str, str]:
    """OIN -> name of every registered organisation, so a page names parties, not numbers."""
    return {org.oin: org.name for org in services().registry.organisations()}


def consent_desk() -> ConsentDesk:
    return ConsentDesk(services().consents)


def parse_bsn(text: str) -> Bsn:
    """A BSN from a form field; the refusal never repeats the value."""
    try:
        return Bsn("".join((text or "").split()))
    except InvalidBsnError:
        raise WebError(
            422, "Dit is geen geldig BSN (9 cijfers die de elfproef doorstaan).", "BSN niet geldig"
        ) from None


class ConsentDesk:
    def __init__(self, api) -> None:
        self.service = api.service
        self.trail = api.trail

    @staticmethod
    def actor(user) -> Actor:
        return Actor(user.org_oin, user.org_type, user.org_id, None, user.name_id)

    def view(self, user, consent: Consent) -> ConsentView:
        status = (
            "superseded"
            if consent.superseded_at and not consent.withdrawn_at
            else (self.service.status(consent))
        )
        return ConsentView(consent, status, may_withdraw(consent, party_of(self.actor(user))))

    def search(self, user, bsn: Bsn) -> list[ConsentView]:
        """The consents of the child this user may find by BSN (API.md section 13 rule 2;
        the operator's officers find all)."""
        found = self.service.findable(bsn, self.actor(user))
        found.sort(key=lambda consent: consent.created_at)
        naming = {"clear_to": (user.org_oin,)} if user.org_oin else {}
        self.trail.write(
            self.event(
                "consent.search",
                user,
                subject_ref=self.trail.subject_ref({"bsn": bsn.digits}),
                **naming,  # the user's organisation named the BSN (docs/audit-design.md)
            )
        )
        return [self.view(user, consent) for consent in found]

    def get(self, user, consent_id: str) -> ConsentView:
        consent = self.service.store.get(consent_id) if len(consent_id) <= 64 else None
        if consent is None or not self.service.visible(consent, self.actor(user)):
            raise WebError(404, "Deze toestemming bestaat niet of is niet voor jou zichtbaar.")
        self.trail.write(
            self.event(
                "consent.read",
                user,
                consent_id=consent.id,
                purpose=consent.purpose,
                subject_ref=self.trail.from_domain(consent.subject_ref, "consent"),
            )
        )
        return self.view(user, consent)

    def withdraw(self, user, consent_id: str, role: str, reason: str) -> None:
        view = self.get(user, consent_id)
        consent = view.consent
        try:
            loaded = load_consent_withdrawal({"withdrawn_by": {"role": role}, "reason": reason})
        except SchemaValidationError as exc:
            self.trail.write(
                self.event(
                    "consent.withdraw",
                    user,
                    "denied",
                    exc.code,
                    consent_id=consent.id,
                    purpose=consent.purpose,
                )
            )
            raise WebError(
                422,
                "Kies wie de toestemming intrekt en geef een reden op (ten hoogste 500 tekens).",
                "Niet ingetrokken",
            ) from None
        if not view.withdrawable:
            raise WebError(
                403,
                "Alleen de organisatie die de toestemming vastlegde, een partij die met haar "
                "OIN is genoemd of de beheerder kan haar intrekken, zolang zij geldt of nog "
                "moet ingaan.",
            )
        try:
            self.service.withdraw(
                consent.id, self.actor(user), loaded["withdrawn_by"]["role"], loaded["reason"]
            )
        except ConsentError as exc:
            raise WebError(404, "Deze toestemming kan niet worden ingetrokken.") from exc

    @staticmethod
    def event(
        action: str, user, decision: str = "allowed", reason: str | None = None, **details
    ) -> AuditEvent:
        return AuditEvent(
            action=action,
            decision=decision,
            reason=reason,
            actor_org=user.org_oin,
            actor_user=user.name_id,
            **details,
        )


def local_time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("Europe/Amsterdam")).strftime("%d-%m-%Y %H:%M")
