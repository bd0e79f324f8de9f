"""The register of processing activities (AVG article 30), generated, never written by hand.

A register kept beside the policies drifts from them; this one is read from them on every
request: the route policies as they are now in the database (``route_policies``, which a
bootstrap ``routes:`` block changes, each change an ``admin.route.*`` audit event), the message
types the gateway generates with the policies that govern them (the signal policy, the regions'
agreements, the pact's constants), the retention terms of ``gateway/policies/retention.yaml``,
and the gateway's own processing (signal matching, the consent registry, re-identification,
the audit log, subject reports, staff sign-in). Each activity has a stable id and URI
(:mod:`.ids`) that a Logboek Dataverwerkingen record names as its
``dpl.core.processing_activity_id``.

Article 30(1) asks per activity: the controller (and processor), the purposes, the categories
of data subjects and of personal data, the recipients, the time limits for erasure and the
security measures. The answer here holds codes and English texts (the API's language); the
Dutch page names the codes (:mod:`.dutch`). No activity names a child or a person: the
document holds no personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import aliased

from schemas.messages import MESSAGE_SCHEMAS
from schemas.vocabulary import (
    CONSULTATION_INVITEE_TYPES,
    CONVENER_PARTY,
    GATEWAY_MESSAGE_TYPES,
    MESSAGE_TYPES,
    PURPOSES,
)

from ..exchange.models import RoutePolicyRow
from ..exchange.routes import RoutePolicy, policy_from_row
from ..monitoring.alerts import LEGAL_BASIS as ALERT_BASIS
from ..pact import escalation, reminders
from ..registry.models import Region
from ..retention.policy import WITHOUT_PURPOSE, RetentionPolicy
from ..signals.policy import SignalPolicy
from ..storage.database import Database
from ..storage.models import Organisation
from ..web.sessions import ABSOLUTE_TIMEOUT
from . import ids

PARTNER_TYPES = ("school", "swv", "ggd", "wij", "leerplicht")
"""The partners of the pact (every organisation type but the operator)."""
OPERATOR = "operator"

HOMEBOUND_ALERT_RETENTION_DAYS = 180
"""``gateway/monitoring/alerts.py`` writes its ``homebound_alert`` with ``retention_days=180``
(a literal there, not a constant this module can import; a unit test holds the two equal by
generating an alert)."""

ORGANISATION_NAMES = {
    "school": "a school",
    "swv": "a samenwerkingsverband (SWV)",
    "ggd": "a GGD (youth health care)",
    "wij": "a WIJ team (social district team)",
    "leerplicht": "a leerplicht office",
    "operator": "the gateway's operator",
}

PURPOSE_TEXTS = {
    "leerplicht_enforcement": "Enforcing compulsory school attendance (verzuim)",
    "passend_onderwijs": "The samenwerkingsverband's duty of care for a suitable place "
    "in education (zorgplicht)",
    "mazl": "Medical advice on sickness absence (MAZL) by the youth health care",
    "support": "Support for the child and the family by the social district team",
    "homebound_monitoring": "Keeping sight of children at home without a place in education",
    "signal_matching": "Telling organisations involved with the same child of each other "
    "(verwijsindex)",
    "case_consultation": "The team around the child: a consultation of the organisations involved",
    "exemption_advice": "Advice on an exemption from compulsory education (art. 5 onder a)",
    "homebound_escalation": "Escalation to the holder of doorzettingsmacht when a child is "
    "at home beyond the region's norm",
    "consent_registration": "Recording, proving and withdrawing the consents routes rely on",
    "reidentification": "Revealing the BSN behind a pseudonym to a partner with a legal "
    "basis, after approval",
    "accountability": "Proving every decision and disclosure (tamper-evident audit log)",
    "subject_access": "Answering a parent's request for access (AVG article 15)",
    "authentication": "Signing staff in to the web interface",
}
"""Every purpose of the register: the route table's (``schemas.vocabulary.PURPOSES``) and
those of the gateway's own processing."""

DATA_SUBJECTS = {
    "children": "Children of compulsory school age (and young people up to 23)",
    "parents": "Parents, guardians and youths who grant or withdraw consent",
    "staff": "Staff of the partner organisations and of the operator (contact persons, "
    "people signed in)",
}

SECURITY_MEASURES = {
    "tls": "TLS on every connection; HSTS in production",
    "oauth_client_authentication": "OAuth 2.0 client credentials with a signed client "
    "assertion (private_key_jwt) or mutual TLS, tokens bound to the client, scopes per client",
    "saml_sign_in": "SAML 2.0 single sign-on for staff, roles from the identity provider, "
    "server-side sessions (30 minutes idle, 8 hours at most), CSRF tokens on every form",
    "deny_by_default": "A route not in the route policies is refused",
    "legal_basis_check": "Every send checks the route's legal obligation or a valid consent "
    "in the consent registry",
    "schema_validation": "Payloads validated strictly against the message type (unknown "
    "fields refused)",
    "minimisation": "The recipient gets only the fields of its profile; dates of birth "
    "become a birth year where the profile says so",
    "pseudonymisation": "The recipient gets its own stable pseudonym for the child, never "
    "the BSN, unless the legal basis names the BSN",
    "polymorphic_pseudonyms": "In polymorphic mode the pseudonym is encrypted for the "
    "recipient alone; the gateway never sees it",
    "sealing_at_rest": "Stored payloads and consent details encrypted at rest "
    "(AES-256-GCM, keys per purpose, bound to their row)",
    "signed_receipts": "Each recorded consent has a signed receipt",
    "four_eyes_approval": "A re-identification is approved by the operator's privacy "
    "officer, never by the requesting organisation; the BSN is shown once",
    "tamper_evident_audit": "Every decision is an event of a hash-chained audit log with a "
    "Merkle tree and signed checkpoints",
    "audit_log": "Every action on the data is an audit event",
    "role_based_access": "Pages and API calls by role and scope; a partner sees only its own "
    "traffic",
    "retention_purge": "Erased when the retention term ends; audit events lose their child "
    "reference by crypto-shredding",
    "no_bsn_in_logs": "No BSN in any URL, log line, metric label or audit record",
    "rate_limiting": "Requests limited per client, organisation and address",
}
"""What the gateway does to protect the data (article 30(1)(g)): a fixed list, each measure
one the code applies; an activity names those that apply to it."""

IDENTITIES = {
    "bsn": "The BSN (only where the legal basis names it)",
    "pseudonym": "A pseudonym (the recipient's own, or the gateway's internal one); never the BSN",
    "none": "No identity of a child",
}

ROUTE_CONTROLLERS = (
    "The sending organisation for the sending and the receiving organisation for what it "
    "receives, each under its own statutory task or the consent given to it; the gateway's "
    "operator processes on their behalf (AVG article 28)"
)
OWN_CONTROLLERS = (
    "The partners of the pact jointly (AVG article 26), each for its own traffic; the "
    "gateway's operator processes on their behalf (AVG article 28)"
)
SIGN_IN_CONTROLLERS = (
    "Each organisation for its own staff; the gateway's operator processes on the partners' "
    "behalf (AVG article 28)"
)


@dataclass(frozen=True)
class Context:
    """What one register is generated from: the database's policies and the files'."""

    routes: list[RoutePolicy]
    escalation_bases: list[str]
    escalation_holders: list[str]


class ProcessingRegister:
    """The article 30 register: :meth:`activities` and :meth:`activity` (None: no such id)."""

    def __init__(
        self,
        db: Database,
        retention: RetentionPolicy,
        signals: SignalPolicy,
        base_url: str,
    ) -> None:
        self.db = db
        self.retention = retention
        self.signals = signals
        self.base_url = base_url

    def activities(self) -> list[dict]:
        """Every activity: the routes (in the order of purposes and message types), the
        generated message types, the gateway's own processing."""
        context = self._context()
        found = [self._route(policy) for policy in context.routes]
        found += [self._generated(message_type, context) for message_type in GATEWAY_MESSAGE_TYPES]
        found += [self._own(activity_id) for activity_id in ids.OWN_ACTIVITIES]
        return found

    def activity(self, activity_id: str) -> dict | None:
        if not ids.ID_PATTERN.fullmatch(activity_id):
            return None
        return next((a for a in self.activities() if a["id"] == activity_id), None)

    # reading ------------------------------------------------------------------------------
    def _context(self) -> Context:
        holder = aliased(Organisation)
        with self.db.session() as session:
            rows = session.scalars(select(RoutePolicyRow)).all()
            routes = sorted((policy_from_row(row) for row in rows), key=_route_order)
            regions = session.execute(
                select(Region.escalation_basis, holder.type)
                .join(holder, holder.id == Region.escalation_org_id)
                .order_by(Region.code)
            ).all()
        bases = list(dict.fromkeys(basis for basis, _ in regions if basis))
        holders = sorted({org_type for _, org_type in regions})
        return Context(routes, bases, holders)

    # the three kinds ---------------------------------------------------------------------
    def _route(self, policy: RoutePolicy) -> dict:
        activity_id = ids.route_activity_id(
            policy.purpose, policy.message_type, policy.sender_type, policy.recipient_type
        )
        data = route_data(policy)
        staff = "contact" in data["kept"]
        measures = [
            "tls",
            "oauth_client_authentication",
            "deny_by_default",
            "legal_basis_check",
            "schema_validation",
            "minimisation",
            *(["pseudonymisation"] if policy.identity == "pseudonym" else []),
            *(["polymorphic_pseudonyms"] if data["polymorphic_allowed"] else []),
            "sealing_at_rest",
            "audit_log",
            "retention_purge",
            "no_bsn_in_logs",
            "rate_limiting",
        ]
        return self._entry(
            activity_id,
            kind="route",
            name=_route_name(policy),
            purpose=policy.purpose,
            legal_basis=_basis(policy.legal_basis_type, policy.citation),
            message_type=policy.message_type,
            route={"sender_type": policy.sender_type, "recipient_type": policy.recipient_type},
            data_subjects=["children", *(["staff"] if staff else [])],
            personal_data=data,
            recipients=[policy.recipient_type],
            retention=self._message_retention(policy.retention_days, policy.purpose),
            measures=measures,
            controllers=(sorted({policy.sender_type, policy.recipient_type}), False),
            roles=ROUTE_CONTROLLERS,
        )

    def _generated(self, message_type: str, context: Context) -> dict:
        """A message the gateway writes itself (sender: the operator), to the recipient's own
        pseudonym, sealed at rest, audited like a send."""
        purpose, basis, recipients, days = self._generated_policy(message_type, context)
        fields = type_fields(message_type)
        staff = message_type in ("signal_match", "case_reminder")  # a contact, the regie's name
        return self._entry(
            ids.generated_activity_id(purpose, message_type),
            kind="generated_message",
            name=f"{_type_name(message_type)} generated by the gateway",
            purpose=purpose,
            legal_basis=basis,
            message_type=message_type,
            data_subjects=["children", *(["staff"] if staff else [])],
            personal_data=_data("pseudonym", kept=fields),
            recipients=recipients,
            retention=self._message_retention(days, purpose),
            measures=[
                "tls",
                "oauth_client_authentication",
                "pseudonymisation",
                "minimisation",
                "sealing_at_rest",
                "audit_log",
                "retention_purge",
                "no_bsn_in_logs",
            ],
            controllers=(list(PARTNER_TYPES), True),
            roles=OWN_CONTROLLERS,
        )

    def _generated_policy(self, message_type: str, context: Context) -> tuple:
        """(purpose, legal basis, recipient types, retention days) of a generated type, from
        the policy that governs it."""
        if message_type == "signal_match":
            signals = self.signals
            return (
                signals.purpose,
                _basis("legal_obligation", signals.citation),
                sorted(signals.organisation_types, key=_type_order),
                signals.retention_days,
            )
        if message_type == "homebound_alert":
            reporters = {
                p.sender_type for p in context.routes if p.message_type == "homebound_report"
            }
            return (
                "homebound_monitoring",
                _basis("legal_obligation", ALERT_BASIS["citation"]),
                sorted(reporters, key=_type_order),
                HOMEBOUND_ALERT_RETENTION_DAYS,
            )
        if message_type == reminders.MESSAGE_TYPE:
            return (
                reminders.PURPOSE,
                _basis("consent", None),
                [CONVENER_PARTY, *CONSULTATION_INVITEE_TYPES],
                reminders.RETENTION_DAYS,
            )
        # homebound_escalation and homebound_escalation_closed: to the region's holder of
        # doorzettingsmacht and to the reporting leerplicht office, on the region's agreement
        reporters = {p.sender_type for p in context.routes if p.message_type == "homebound_report"}
        citation = "; ".join(context.escalation_bases) or None
        basis = _basis("legal_obligation", citation)
        if citation is None:
            basis["description"] = (
                "The regional agreement that gives the holder doorzettingsmacht, named per "
                "region in the bootstrap file's regions block (no region names one yet)"
            )
        return (
            escalation.PURPOSE,
            basis,
            sorted(reporters | set(context.escalation_holders), key=_type_order),
            escalation.RETENTION_DAYS,
        )

    def _own(self, activity_id: str) -> dict:
        return {
            ids.SIGNAL_MATCHING: self._signal_matching,
            ids.CONSENT_REGISTRY: self._consent_registry,
            ids.REIDENTIFICATION: self._reidentification,
            ids.AUDIT_LOG: self._audit_log,
            ids.SUBJECT_ACCESS: self._subject_access,
            ids.SIGN_IN: self._sign_in,
        }[activity_id]()

    def _signal_matching(self) -> dict:
        signals = self.signals
        return self._entry(
            ids.SIGNAL_MATCHING,
            kind="gateway",
            name="Matching the signals of organisations involved with the same child",
            purpose=signals.purpose,
            legal_basis=_basis("legal_obligation", signals.citation),
            data_subjects=["children", "staff"],
            personal_data=_data("pseudonym", kept=["signal_category", "organisation", "contact"]),
            recipients=sorted(signals.organisation_types, key=_type_order),
            retention=self._retention(
                self.retention.signals_days_after_close, "close", signals.purpose
            ),
            measures=[
                "tls",
                "oauth_client_authentication",
                "pseudonymisation",
                "minimisation",
                "audit_log",
                "retention_purge",
                "no_bsn_in_logs",
                "rate_limiting",
            ],
            controllers=(list(PARTNER_TYPES), True),
            roles=OWN_CONTROLLERS,
        )

    def _consent_registry(self) -> dict:
        return self._entry(
            ids.CONSENT_REGISTRY,
            kind="gateway",
            name="The consent registry",
            purpose="consent_registration",
            legal_basis=_basis("legal_obligation", "AVG art. 7 lid 1"),
            data_subjects=["children", "parents", "staff"],
            personal_data=_data(
                "pseudonym",
                kept=[
                    "consent_purpose",
                    "consent_parties",
                    "grantor_role",
                    "evidence_method",
                    "validity",
                    "receipt",
                ],
            ),
            recipients=list(PARTNER_TYPES),
            retention=self._retention(self.retention.consents_days_after_end, "end", None),
            measures=[
                "tls",
                "oauth_client_authentication",
                "saml_sign_in",
                "pseudonymisation",
                "sealing_at_rest",
                "signed_receipts",
                "audit_log",
                "role_based_access",
                "retention_purge",
                "no_bsn_in_logs",
            ],
            controllers=(list(PARTNER_TYPES), True),
            roles=OWN_CONTROLLERS,
        )

    def _reidentification(self) -> dict:
        basis = _basis("legal_obligation", None)
        basis["description"] = (
            "The legal obligation the requesting partner names in each request (API.md "
            "section 7), checked by the operator's privacy officer before approval"
        )
        return self._entry(
            ids.REIDENTIFICATION,
            kind="gateway",
            name="Re-identification of a pseudonym on request, after approval",
            purpose="reidentification",
            legal_basis=basis,
            data_subjects=["children", "staff"],
            personal_data=_data("bsn", kept=["pseudonym", "request_reason", "decision"]),
            recipients=list(PARTNER_TYPES),
            retention=self._retention(
                self.retention.reidentification_days_after_decision, "decision", WITHOUT_PURPOSE
            ),
            measures=[
                "tls",
                "oauth_client_authentication",
                "saml_sign_in",
                "four_eyes_approval",
                "audit_log",
                "role_based_access",
                "retention_purge",
                "no_bsn_in_logs",
                "rate_limiting",
            ],
            controllers=(list(PARTNER_TYPES), True),
            roles=OWN_CONTROLLERS,
        )

    def _audit_log(self) -> dict:
        terms = self.retention.audit_subject_days
        return self._entry(
            ids.AUDIT_LOG,
            kind="gateway",
            name="The audit log of every decision and disclosure",
            purpose="accountability",
            legal_basis=_basis("legal_obligation", "AVG art. 5 lid 2, art. 24 en art. 32"),
            data_subjects=["children", "staff"],
            personal_data=_data(
                "pseudonym",
                kept=[
                    "audit_action",
                    "organisation",
                    "staff_identity",
                    "fields_named",
                    "refusal_reason",
                ],
            ),
            recipients=[*PARTNER_TYPES, OPERATOR],
            retention={
                "days": None,
                "counted_from": "event",
                "audit_reference_days": {"min": min(terms.values()), "max": max(terms.values())},
                "description": (
                    "An event is never deleted (the hash chain proves the log whole); its child "
                    "reference is crypto-shredded after the term of the event's purpose in "
                    "gateway/policies/retention.yaml (audit_subject_days)"
                ),
            },
            measures=[
                "tls",
                "oauth_client_authentication",
                "saml_sign_in",
                "tamper_evident_audit",
                "role_based_access",
                "retention_purge",
                "no_bsn_in_logs",
            ],
            controllers=(list(PARTNER_TYPES), True),
            roles=OWN_CONTROLLERS,
        )

    def _subject_access(self) -> dict:
        return self._entry(
            ids.SUBJECT_ACCESS,
            kind="gateway",
            name="Subject access reports (inzage) for parents",
            purpose="subject_access",
            legal_basis=_basis("legal_obligation", "AVG art. 12 en art. 15"),
            data_subjects=["children", "parents", "staff"],
            personal_data=_data("bsn", kept=["audit_action", "organisation", "fields_named"]),
            recipients=[*PARTNER_TYPES, OPERATOR],
            retention=self._retention(None, "event", WITHOUT_PURPOSE),
            measures=[
                "tls",
                "saml_sign_in",
                "role_based_access",
                "audit_log",
                "no_bsn_in_logs",
            ],
            controllers=(list(PARTNER_TYPES), True),
            roles=OWN_CONTROLLERS,
        )

    def _sign_in(self) -> dict:
        hours = int(ABSOLUTE_TIMEOUT.total_seconds() // 3600)
        return self._entry(
            ids.SIGN_IN,
            kind="gateway",
            name="Staff sign-in to the web interface",
            purpose="authentication",
            legal_basis=_basis("legal_obligation", "AVG art. 32"),
            data_subjects=["staff"],
            personal_data=_data("none", kept=["staff_identity", "organisation", "roles"]),
            recipients=[],
            retention={
                "days": None,
                "counted_from": "session_start",
                "audit_reference_days": None,
                "description": (
                    f"A session ends after {hours} hours at most (30 minutes idle); the "
                    "sign-in's audit event stays with the audit log"
                ),
            },
            measures=["tls", "saml_sign_in", "audit_log", "role_based_access"],
            controllers=([*PARTNER_TYPES, OPERATOR], False),
            roles=SIGN_IN_CONTROLLERS,
        )

    # parts -------------------------------------------------------------------------------
    def _message_retention(self, days: int, purpose: str) -> dict:
        return self._retention(days, "send", purpose)

    def _retention(self, days: int | None, counted_from: str, purpose: str | None) -> dict:
        """A term and the audit trail's: the record goes ``days`` after ``counted_from``,
        the audit events about it keep their child reference for their purpose's term."""
        audit_days = self.retention.audit_term(purpose).days if purpose is not None else None
        parts = []
        if days is not None:
            parts.append(f"Erased {days} days after the {counted_from.replace('_', ' ')}")
        if audit_days is not None:
            parts.append(
                f"the audit events keep the child reference {audit_days} days "
                "(gateway/policies/retention.yaml), then it is crypto-shredded"
            )
        description = "; ".join(parts)
        return {
            "days": days,
            "counted_from": counted_from,
            "audit_reference_days": (
                {"min": audit_days, "max": audit_days} if audit_days is not None else None
            ),
            "description": description[:1].upper() + description[1:],
        }

    def _entry(
        self,
        activity_id: str,
        *,
        kind: str,
        name: str,
        purpose: str,
        legal_basis: dict,
        data_subjects: list[str],
        personal_data: dict,
        recipients: list[str],
        retention: dict,
        measures: list[str],
        controllers: tuple[list[str], bool],
        roles: str,
        message_type: str | None = None,
        route: dict | None = None,
    ) -> dict:
        controller_types, joint = controllers
        return {
            "id": activity_id,
            "uri": ids.activity_uri(self.base_url, activity_id),
            "kind": kind,
            "name": name,
            "purpose": {"code": purpose, "description": PURPOSE_TEXTS[purpose]},
            "legal_basis": legal_basis,
            "message_type": message_type,
            "route": route,
            "data_subjects": [{"code": c, "description": DATA_SUBJECTS[c]} for c in data_subjects],
            "personal_data": personal_data,
            "recipients": recipients,
            "retention": retention,
            "security_measures": [
                {"code": c, "description": SECURITY_MEASURES[c]} for c in measures
            ],
            "roles": {
                "controllers": controller_types,
                "joint_controllers": joint,
                "processor": OPERATOR,
                "description": roles,
            },
        }


def route_data(policy: RoutePolicy) -> dict:
    """The categories of personal data a route's recipient gets, from its profile: the
    fields kept as sent, those generalised (to which), those dropped, those the gateway adds,
    and the form of the child's identity. Every field of the message type is in exactly one
    of kept, generalised and dropped."""
    profile = policy.profile
    fields = type_fields(policy.message_type)
    generalised = [
        {"field": name, "as": profile.generalise[name]}
        for name in fields
        if name in profile.generalise
    ]
    kept = [
        name
        for name in fields
        if name not in profile.generalise and (profile.keeps_all or name in profile.keep)
    ]
    dropped = [name for name in fields if name not in profile.generalise and name not in kept]
    return _data(
        policy.identity,
        kept=kept,
        generalised=generalised,
        dropped=dropped,
        added=list(profile.gateway_fields),
        polymorphic=policy.identity == "pseudonym" and policy.polymorphic,
    )


@cache
def _schema_fields(message_type: str) -> tuple[str, ...]:
    return tuple(MESSAGE_SCHEMAS[message_type]().fields)


def type_fields(message_type: str) -> list[str]:
    """The payload fields of a message type, in the schema's order (a schema costs more to
    build than the rest of the register)."""
    return list(_schema_fields(message_type))


def _data(
    identity: str,
    *,
    kept: list[str],
    generalised: list[dict] | None = None,
    dropped: list[str] | None = None,
    added: list[str] | None = None,
    polymorphic: bool = False,
) -> dict:
    return {
        "identity": identity,
        "identity_description": IDENTITIES[identity],
        "polymorphic_allowed": polymorphic,
        "kept": kept,
        "generalised": generalised or [],
        "dropped": dropped or [],
        "added_by_gateway": added or [],
    }


def _basis(basis_type: str, citation: str | None) -> dict:
    if basis_type == "consent":
        return {
            "type": "consent",
            "citation": None,
            "description": (
                "The consent of the parents (or of the youth) recorded in the gateway's "
                "consent registry, checked on every send (AVG art. 6 lid 1 onder a)"
            ),
        }
    return {
        "type": "legal_obligation",
        "citation": citation,
        "description": "A legal obligation of the controller (AVG art. 6 lid 1 onder c)",
    }


def _route_name(policy: RoutePolicy) -> str:
    sender = ORGANISATION_NAMES[policy.sender_type]
    recipient = ORGANISATION_NAMES[policy.recipient_type]
    return f"{_type_name(policy.message_type)} from {sender} to {recipient}"


def _type_name(message_type: str) -> str:
    """``absence_report`` -> ``Absence report``."""
    return message_type.replace("_", " ").capitalize()


def _type_order(org_type: str) -> int:
    order = (*PARTNER_TYPES, OPERATOR)
    return order.index(org_type) if org_type in order else len(order)


def _route_order(policy: RoutePolicy) -> tuple:
    """Purposes and message types in the vocabulary's order, then sender and recipient."""
    purpose = PURPOSES.index(policy.purpose) if policy.purpose in PURPOSES else len(PURPOSES)
    kind = MESSAGE_TYPES.index(policy.message_type)
    return (purpose, kind, _type_order(policy.sender_type), _type_order(policy.recipient_type))
