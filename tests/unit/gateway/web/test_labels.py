"""Every code a person can meet on the web pages has a Dutch name in ``gateway.web.vocabulary``.

The codes are collected from where the product defines them, not from the vocabulary itself:
message types, purposes and legal bases from the shipped route policies
(``gateway/policies/routes.yaml``) and ``schemas.vocabulary``; scopes, organisation types,
statuses and login methods from ``gateway.registry.rules``; audit actions from the string
literals in the production code (plus the ``admin.<object>.<verb>`` actions that are built
from parts); problem codes from the vocabulary's own problem texts; payload fields from the
message schemas (``schemas.messages``, nested objects included) and the route policies'
minimisation profiles; the pact indicators from what the monitoring service answers. A code
added in one of those places without a Dutch name makes this test fail.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from gateway.monitoring import config as monitoring_config
from gateway.monitoring import indicators as monitoring
from gateway.monitoring.service import MonitoringService
from gateway.pact.indicators import PactIndicators
from gateway.registry import rules
from gateway.storage.database import Database
from gateway.web import inzage, labels, vocabulary
from schemas import vocabulary as contract
from schemas.messages import MESSAGE_SCHEMAS

ROOT = Path(__file__).resolve().parents[4]
ACTION_PREFIXES = (
    "exchange",
    "consent",
    "signal",
    "reidentification",
    "audit",
    "auth",
    "pep",
    "case",
    "exemption",
    "escalation",
)
#: ``admin.<what>`` actions assembled at run time: the web pages (gateway/web/registryadmin.py),
#: the bootstrap file (gateway/bootstrap/apply.py) and the outbox (gateway/delivery/events.py).
ADMIN_ACTIONS = (
    "admin.organisation.create",
    "admin.organisation.suspend",
    "admin.organisation.activate",
    "admin.organisation.update",
    "admin.organisation.remove",
    "admin.client.create",
    "admin.client.rotate_key",
    "admin.client.update",
    "admin.client.remove",
    "admin.route.create",
    "admin.route.update",
    "admin.route.remove",
    "admin.outbox.retry",
)


def routes() -> list[dict]:
    return yaml.safe_load((ROOT / "gateway/policies/routes.yaml").read_text())["routes"]


def audit_actions() -> set[str]:
    """Action names written as string literals anywhere in ``gateway/`` (``"exchange.send"``)."""
    prefixes = "|".join(ACTION_PREFIXES)
    pattern = re.compile(r"""["'](?P<a>(?:""" + prefixes + r""")\.[a-z_]+)["']""")
    found = set()
    for path in (ROOT / "gateway").rglob("*.py"):
        found |= {m["a"] for m in pattern.finditer(path.read_text(encoding="utf-8"))}
    return found | set(ADMIN_ACTIONS)


def schema_fields(schema) -> set[str]:
    """Every field name of a payload schema, those of nested objects (and lists of them) too."""
    names = set()
    for name, field in schema._declared_fields.items():
        names.add(name)
        inner = getattr(field, "inner", None)
        nested = getattr(field, "nested", None) or getattr(inner, "nested", None)
        if nested is not None:
            names |= schema_fields(nested if isinstance(nested, type) else type(nested))
    return names


def payload_fields() -> set[str]:
    """The fields of every message schema, and every field a route's profile keeps or makes
    (``generalise: {date_of_birth: birth_year}`` names both)."""
    found = set()
    for schema in MESSAGE_SCHEMAS.values():
        found |= schema_fields(schema)
    for route in routes():
        keep = route["profile"].get("keep", [])
        found |= set() if keep == "*" else set(keep)
        for field, coarser in route["profile"].get("generalise", {}).items():
            found |= {field, coarser}
    return found


def indicator_codes() -> set[tuple[str, str]]:
    """The pact indicators the monitoring service counts and publishes."""
    found = {("homebound_category", code) for code in monitoring.CATEGORIES}
    found |= {("homebound_duration", code) for code in monitoring.DURATIONS}
    return found | {("indicator", code) for code in monitoring_config.INDICATORS}


def codes() -> list[tuple[str, str]]:
    """``(kind, code)`` for every code of the product a page can show."""
    found = {("message_type", r["message_type"]) for r in routes()}
    found |= {("message_type", code) for code in contract.MESSAGE_TYPES}
    found |= {("purpose", r["purpose"]) for r in routes()}
    found |= {("purpose", code) for code in contract.AUDIT_PURPOSES}
    found |= {("legal_basis", r["legal_basis"]["type"]) for r in routes()}
    found |= {("legal_basis", code) for code in contract.LEGAL_BASIS_TYPES}
    found |= {("org_type", code) for code in rules.ORGANISATION_TYPES}
    found |= {("org_type", r[side]) for r in routes() for side in ("sender_type", "recipient_type")}
    found |= {("org_status", code) for code in rules.STATUSES}
    found |= {("scope", code) for code in rules.SCOPES}
    found |= {("auth_method", code) for code in rules.AUTH_METHODS}
    found |= {("consent_status", code) for code in contract.CONSENT_STATUSES}
    found |= {("reidentification_status", code) for code in contract.REIDENTIFICATION_STATUSES}
    found |= {("grantor", code) for code in contract.GRANTOR_ROLES}
    found |= {("evidence", code) for code in contract.EVIDENCE_METHODS}
    found |= {("decision", code) for code in contract.AUDIT_DECISIONS}
    found |= {("action", code) for code in audit_actions()}
    found |= {("refusal", code) for code in vocabulary.TEXTS}
    found |= {("field", code) for code in payload_fields()}
    found |= indicator_codes()
    return sorted(found)


def test_the_collection_finds_the_codes_the_issue_names():
    """The collectors are not empty by accident: they find the codes people reported."""
    found = set(codes())
    for expected in (
        ("message_type", "absence_report"),
        ("action", "pep.key_share"),
        ("action", "organisation.create".join(("admin.", ""))),
        ("refusal", "insufficient_scope"),
        ("evidence", "written"),
        ("scope", "exchange:send"),
        ("org_type", "swv"),
        ("field", "remarks"),
        ("field", "email"),
        ("field", "birth_year"),
        ("field", "other_party"),
        ("homebound_category", "exemption_other"),
        ("homebound_duration", "over_3_months"),
        ("indicator", "exemptions_5a"),
    ):
        assert expected in found


@pytest.mark.parametrize(("kind", "code"), codes())
def test_every_code_has_a_dutch_name(kind, code):
    name = vocabulary.name(kind, code)
    if kind == "action":
        assert code in vocabulary.ACTIONS or code.startswith("admin.")
        assert name != "andere handeling" and "register" not in name
        assert len(name.split()) >= 2, name  # "beheer: organisatie toegevoegd", not "beheer:"
    elif kind == "refusal":
        assert name and name != "Andere reden"
    else:
        assert code in vocabulary.KINDS[kind], f"{kind} {code} has no Dutch name"
    assert name and name != code
    assert not re.search(rf"(?<![\w.:-]){re.escape(code)}(?![\w.:-])", name), name


ANSWER_FRAME = {
    "school_year",
    "generated_at",
    "suppression_threshold",
    "homebound",
    "baseline",
    "targets",
    "pact",
}
"""The members of the indicators answer (API.md section 9) that are not an indicator (``pact``
is a group of its own, checked below)."""


def test_the_monitoring_service_answers_only_indicators_with_a_dutch_name(sqlite_url):
    """What the service really produces (on an empty database, every cell zero): each
    grouping's keys, and the headline figures beside ``homebound``."""
    db = Database(sqlite_url)
    try:
        answer = MonitoringService(
            db,
            monitoring_config.load_monitoring_config(),
            lambda: datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
            "Europe/Amsterdam",
            pact=PactIndicators("Europe/Amsterdam"),
        ).indicators(None, None)
    finally:
        db.dispose()
    produced = {("homebound_category", key) for key in answer["homebound"]["by_category"]}
    produced |= {("homebound_duration", key) for key in answer["homebound"]["by_duration"]}
    produced |= {("indicator", key) for key in set(answer) - ANSWER_FRAME}
    produced |= {
        ("indicator", key)
        for key in (*answer["baseline"], *answer["targets"])
        if key != "school_year"
    }
    assert produced == indicator_codes()
    for kind, code in produced:
        assert code in vocabulary.KINDS[kind], f"{kind} {code} has no Dutch name"
    requests = answer["pact"]["exemption_requests"]
    for kind, grouping in (
        ("medical_advice", requests["by_medical_advice"]),
        ("exemption_decision", requests["by_decision"]),
    ):
        assert grouping and set(grouping) <= set(vocabulary.KINDS[kind]), kind


def test_the_inzage_answer_names_fields_from_the_vocabulary():
    assert inzage.field_name("remarks") == "opmerkingen"
    assert inzage.field_name("birth_year") == "geboortejaar"
    assert inzage.field_name("brand_new_field") == "ander gegeven"
    assert not hasattr(inzage, "FIELD_NAMES"), "one vocabulary: the names live in vocabulary"


def test_an_unknown_code_is_not_shown_as_it_is():
    assert vocabulary.name("message_type", "brand_new_type") == "onbekend"
    assert vocabulary.name("field", "brand_new_field") == "ander gegeven"
    assert vocabulary.name("homebound_category", "brand_new_category") == "onbekend"
    assert vocabulary.action("brand.new_action") == "andere handeling"
    assert vocabulary.refusal("brand_new_refusal") == "Andere reden"


def test_a_dashboard_route_is_named_in_dutch():
    assert vocabulary.route("absence_report (school → swv)") == (
        "Verzuimmelding: School → Samenwerkingsverband"
    )
    assert vocabulary.route("? (school → ?)") == "onbekend: School → onbekend"


def test_the_template_filter_reads_the_vocabulary():
    assert labels.dutch("written", "evidence") == "schriftelijk"
    assert labels.dutch(None, "evidence") == ""
    assert labels.action_name("admin.client.rotate_key") == "beheer: koppeling sleutels vervangen"
