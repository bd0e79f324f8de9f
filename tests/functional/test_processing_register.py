"""The register of processing activities (issue 22 section 3): ``GET
/api/v1/processing-activities`` (public) and ``/ui/verwerkingsregister`` (Dutch, officers).

The expected entries are written out by hand from the route table (API.md section 3,
``gateway/policies/routes.yaml``) and the retention policy, not copied from an answer. A change
of route policy through a bootstrap file's ``routes:`` block (applied as ``gateway bootstrap``
applies it, with the process's audit log) changes the JSON and the page, and is audited.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from gateway.audit.models import AuditEventRow
from gateway.bootstrap import apply_bootstrap, read_bootstrap
from gateway.exchange.models import RoutePolicyRow
from tests.e2e.devidp_browser import text_of
from tests.saml_helpers import devidp_login, gateway_app

PATH = "/api/v1/processing-activities"
BASE = "http://127.0.0.1:8000"  # Settings' default base URL
SWV_ABSENCE = "passend_onderwijs.absence_report.school-swv"
GGD_EXEMPTION = "exemption_advice.exemption_advice_request.leerplicht-ggd"
HOMEBOUND = "homebound_monitoring.homebound_report.leerplicht-swv"

# API.md section 3: absence_report -> swv receives absence_type, start_date,
# unauthorised_hours_4_weeks, reason_category, education_sector, school_brin and birth_year;
# the other fields of an absence report (grade, contact, remarks) are dropped. Pseudonym,
# legal obligation, 365 days; its purpose's audit term is 1826 days (retention.yaml).
SWV_ABSENCE_ENTRY = {
    "id": SWV_ABSENCE,
    "uri": f"{BASE}{PATH}/{SWV_ABSENCE}",
    "kind": "route",
    "message_type": "absence_report",
    "route": {"sender_type": "school", "recipient_type": "swv"},
    "purpose_code": "passend_onderwijs",
    "legal_basis": ("legal_obligation", "Wet passend onderwijs (zorgplicht)"),
    "data_subjects": ["children"],
    "personal_data": {
        "identity": "pseudonym",
        "polymorphic_allowed": True,
        "kept": [
            "absence_type",
            "start_date",
            "unauthorised_hours_4_weeks",
            "reason_category",
            "education_sector",
            "school_brin",
        ],
        "generalised": [{"field": "date_of_birth", "as": "birth_year"}],
        "dropped": ["grade", "contact", "remarks"],
        "added_by_gateway": [],
    },
    "recipients": ["swv"],
    "retention": {
        "days": 365,
        "counted_from": "send",
        "audit_reference_days": {"min": 1826, "max": 1826},
    },
    "controllers": ["school", "swv"],
}
# routes.yaml: the exemption advice request reaches the GGD with the BSN (OPEN-11), keeps
# everything but the school's BRIN, and the gateway adds the GGD's own case_ref; the contact
# person makes staff data subjects too. 365 days; exemption_advice's audit term is 1826.
GGD_EXEMPTION_ENTRY = {
    "id": GGD_EXEMPTION,
    "uri": f"{BASE}{PATH}/{GGD_EXEMPTION}",
    "kind": "route",
    "message_type": "exemption_advice_request",
    "route": {"sender_type": "leerplicht", "recipient_type": "ggd"},
    "purpose_code": "exemption_advice",
    "legal_basis": (
        "legal_obligation",
        "Leerplichtwet 1969 art. 5 onder a en art. 7 lid 1 onder a",
    ),
    "data_subjects": ["children", "staff"],
    "personal_data": {
        "identity": "bsn",
        "polymorphic_allowed": False,
        "kept": [
            "school_year",
            "requested_on",
            "education_sector",
            "date_of_birth",
            "enrolment",
            "statement_by",
            "respond_by",
            "contact",
        ],
        "generalised": [],
        "dropped": ["school_brin"],
        "added_by_gateway": ["case_ref"],
    },
    "recipients": ["ggd"],
    "retention": {
        "days": 365,
        "counted_from": "send",
        "audit_reference_days": {"min": 1826, "max": 1826},
    },
    "controllers": ["ggd", "leerplicht"],
}

ROUTE_CHANGE = """\
routes:
  - message_type: absence_report
    sender_type: school
    recipient_type: swv
    purpose: passend_onderwijs
    legal_basis: {type: legal_obligation, citation: "Wet passend onderwijs (zorgplicht)"}
    identity: pseudonym
    profile: {keep: [absence_type, start_date], generalise: {date_of_birth: birth_year}}
    retention_days: 90
  - message_type: homebound_report
    sender_type: leerplicht
    recipient_type: swv
    allowed: false
"""


@pytest.fixture(scope="module")
def app(keys_dir, tmp_path_factory):
    application = gateway_app(tmp_path_factory.mktemp("processing-register"), keys_dir)
    yield application
    application.extensions["gateway"].db.dispose()


@pytest.fixture
def changed_app(keys_dir, tmp_path):
    """An app of its own: the test changes its route policies."""
    application = gateway_app(tmp_path / "changed", keys_dir)
    yield application
    application.extensions["gateway"].db.dispose()


def signed_in(app, user: str):
    client = app.test_client()
    assert devidp_login(client, user).status_code == 303
    return client


def check_entry(answer: dict, expected: dict) -> None:
    """``answer`` says what ``expected`` (written by hand) says, member by member."""
    assert answer["id"] == expected["id"]
    assert answer["uri"] == expected["uri"]
    assert answer["kind"] == expected["kind"]
    assert answer["message_type"] == expected["message_type"]
    assert answer["route"] == expected["route"]
    assert answer["purpose"]["code"] == expected["purpose_code"]
    basis = answer["legal_basis"]
    assert (basis["type"], basis["citation"]) == expected["legal_basis"]
    assert [s["code"] for s in answer["data_subjects"]] == expected["data_subjects"]
    data = {k: v for k, v in answer["personal_data"].items() if k != "identity_description"}
    assert data == expected["personal_data"]
    assert answer["recipients"] == expected["recipients"]
    retention = {k: v for k, v in answer["retention"].items() if k != "description"}
    assert retention == expected["retention"]
    assert answer["roles"]["controllers"] == expected["controllers"]
    assert answer["roles"]["processor"] == "operator"
    assert not answer["roles"]["joint_controllers"]


def by_id(answer) -> dict:
    return {activity["id"]: activity for activity in answer.get_json()["activities"]}


def section(html: str, activity_id: str) -> str:
    """The text of one activity's article on the page."""
    found = re.search(
        rf'<article class="activity" id="{re.escape(activity_id)}".*?</article>', html, re.S
    )
    assert found, f"no article for {activity_id}"
    return text_of(found.group(0))


def test_the_register_is_public_json_with_the_api_version(app):
    answer = app.test_client().get(PATH)  # no token
    assert answer.status_code == 200
    assert answer.content_type == "application/json"
    assert answer.headers["API-Version"] == "1.1.0"
    activities = answer.get_json()["activities"]
    ids = [activity["id"] for activity in activities]
    assert len(ids) == len(set(ids))
    for activity in activities:
        assert activity["uri"] == f"{BASE}{PATH}/{activity['id']}"
        assert activity["security_measures"], activity["id"]
        assert activity["data_subjects"], activity["id"]


def test_two_routes_read_as_the_route_table_says(app):
    activities = by_id(app.test_client().get(PATH))
    check_entry(activities[SWV_ABSENCE], SWV_ABSENCE_ENTRY)
    check_entry(activities[GGD_EXEMPTION], GGD_EXEMPTION_ENTRY)
    # one by its id answers the same entry
    single = app.test_client().get(f"{PATH}/{SWV_ABSENCE}")
    assert single.status_code == 200 and single.headers["API-Version"] == "1.1.0"
    assert single.get_json() == activities[SWV_ABSENCE]


def test_every_route_policy_in_the_database_is_one_activity(app):
    with app.extensions["gateway"].db.session() as session:
        rows = session.scalars(select(RoutePolicyRow)).all()
        wanted = {f"{r.purpose}.{r.message_type}.{r.sender_type}-{r.recipient_type}" for r in rows}
    activities = by_id(app.test_client().get(PATH))
    routes = {key for key, activity in activities.items() if activity["kind"] == "route"}
    assert routes == wanted
    assert len(wanted) == 23  # the shipped routes.yaml


def test_the_generated_types_and_the_gateways_own_processing_are_listed(app):
    activities = by_id(app.test_client().get(PATH))
    generated = {key for key, a in activities.items() if a["kind"] == "generated_message"}
    assert generated == {
        "signal_matching.signal_match.gateway",
        "homebound_monitoring.homebound_alert.gateway",
        "case_consultation.case_reminder.gateway",
        "homebound_escalation.homebound_escalation.gateway",
        "homebound_escalation.homebound_escalation_closed.gateway",
    }
    own = {key for key, a in activities.items() if a["kind"] == "gateway"}
    assert own == {
        "gateway.signal_matching",
        "gateway.consent_registry",
        "gateway.reidentification",
        "gateway.audit_log",
        "gateway.subject_access",
        "gateway.sign_in",
    }
    # the signal policy (signals.yaml): Jeugdwet, every partner type, 365 days
    match = activities["signal_matching.signal_match.gateway"]
    assert match["legal_basis"]["citation"] == "Jeugdwet par. 7.1.1 (verwijsindex)"
    assert match["recipients"] == ["school", "swv", "ggd", "wij", "leerplicht"]
    assert match["retention"]["days"] == 365
    # the parents are data subjects of the consent registry, staff of the sign-in only
    consents = activities["gateway.consent_registry"]
    assert [s["code"] for s in consents["data_subjects"]] == ["children", "parents", "staff"]
    assert consents["retention"]["days"] == 730  # consents_days_after_end
    sign_in = activities["gateway.sign_in"]
    assert [s["code"] for s in sign_in["data_subjects"]] == ["staff"]
    assert sign_in["personal_data"]["identity"] == "none"


@pytest.mark.parametrize(
    "activity_id",
    [
        "nothing",
        "passend_onderwijs.absence_report.school-ggd",
        "gateway.unknown",
        "a b",
        "%00",
        "x" * 300,
    ],
)
def test_an_unknown_activity_is_a_404_problem(app, activity_id):
    answer = app.test_client().get(f"{PATH}/{activity_id}")
    assert answer.status_code == 404
    assert answer.content_type == "application/problem+json"
    assert answer.get_json()["code"] == "not_found"


def test_a_route_change_in_the_bootstrap_file_changes_the_register_and_is_audited(
    changed_app, tmp_path
):
    services = changed_app.extensions["gateway"]
    client = changed_app.test_client()
    officer = signed_in(changed_app, "privacy-operator")
    before = by_id(client.get(PATH))
    check_entry(before[SWV_ABSENCE], SWV_ABSENCE_ENTRY)
    assert HOMEBOUND in before
    page = officer.get("/ui/verwerkingsregister").get_data(as_text=True)
    assert "Gewist 365 dagen na verzending." in section(page, SWV_ABSENCE)
    assert f'id="{HOMEBOUND}"' in page

    path = tmp_path / "routes.yaml"
    path.write_text(ROUTE_CHANGE)
    report = apply_bootstrap(
        services.db, read_bootstrap(path, production=False), services.audit_log
    )
    assert report.updated == ["route absence_report:school->swv"]
    assert report.removed == ["route homebound_report:leerplicht->swv"]

    after = by_id(client.get(PATH))
    changed = dict(SWV_ABSENCE_ENTRY)
    changed["personal_data"] = {
        "identity": "pseudonym",
        "polymorphic_allowed": True,
        "kept": ["absence_type", "start_date"],
        "generalised": [{"field": "date_of_birth", "as": "birth_year"}],
        "dropped": [
            "unauthorised_hours_4_weeks",
            "reason_category",
            "education_sector",
            "school_brin",
            "grade",
            "contact",
            "remarks",
        ],
        "added_by_gateway": [],
    }
    changed["retention"] = {
        "days": 90,
        "counted_from": "send",
        "audit_reference_days": {"min": 1826, "max": 1826},
    }
    check_entry(after[SWV_ABSENCE], changed)
    assert HOMEBOUND not in after
    assert client.get(f"{PATH}/{HOMEBOUND}").status_code == 404
    assert set(before) - set(after) == {HOMEBOUND} and set(after) <= set(before)

    page = officer.get("/ui/verwerkingsregister").get_data(as_text=True)
    text = section(page, SWV_ABSENCE)
    assert "Gewist 90 dagen na verzending." in text
    assert "Gegevens die de ontvanger krijgt soort verzuim, begindatum Grover gemaakt" in text
    assert "Weggelaten ongeoorloofde uren in 4 weken, soort reden, onderwijssoort" in text
    assert f'id="{HOMEBOUND}"' not in page

    with services.db.session() as session:
        events = session.scalars(
            select(AuditEventRow)
            .where(AuditEventRow.action.like("admin.route.%"))
            .order_by(AuditEventRow.seq)
        ).all()
        audited = [(e.action, e.steps, e.canonical) for e in events]
    assert [a[0] for a in audited] == ["admin.route.update", "admin.route.remove"]
    assert "absence_report:school->swv" in audited[0][1]
    assert "homebound_report:leerplicht->swv" in audited[1][1]
    assert all('"gateway bootstrap"' in canonical for _, _, canonical in audited)


def test_the_page_is_dutch_for_every_officer(app):
    for user in ("privacy-operator", "privacy-school", "admin-operator"):
        answer = signed_in(app, user).get("/ui/verwerkingsregister")
        assert answer.status_code == 200, user
    html = answer.get_data(as_text=True)
    assert "<h1>Verwerkingsregister</h1>" in html
    text = section(html, SWV_ABSENCE)
    assert text.startswith(
        "Verzuimmelding: School → Samenwerkingsverband Doel Passend onderwijs (zorgplicht)"
    )
    assert "Grondslag Wettelijke plicht: Wet passend onderwijs (zorgplicht)" in text
    assert "Identiteit van het kind Een pseudoniem" in text
    assert "polymorfe pseudoniemen toegestaan" in text
    assert "Grover gemaakt geboortedatum wordt geboortejaar" in text
    assert "Weggelaten leerjaar, contactpersoon, opmerkingen" in text
    assert "Ontvangers Samenwerkingsverband" in text
    assert "De auditlog houdt de verwijzing naar het kind 1826 dagen na de gebeurtenis" in text
    assert "Verwerkingsverantwoordelijke School, Samenwerkingsverband" in text
    exemption = section(html, GGD_EXEMPTION)
    assert "Identiteit van het kind Het BSN" in exemption
    assert "Toegevoegd door de gateway kenmerk van de casus" in exemption
    assert "Weggelaten schoolnummer (BRIN)" in exemption
    consents = section(html, "gateway.consent_registry")
    assert "Ouders, voogden en jongeren die toestemming geven of intrekken" in consents
    assert "Gewist 730 dagen na het einde van de toestemming." in consents


def test_the_page_names_no_code(app):
    html = signed_in(app, "privacy-school").get("/ui/verwerkingsregister").get_data(as_text=True)
    visible = text_of(re.sub(r"<code>.*?</code>", "", html))
    for code in (
        "absence_report",
        "passend_onderwijs",
        "legal_obligation",
        "date_of_birth",
        "leerplicht_enforcement",
        "pseudonymisation",
        "tamper_evident",
    ):
        assert code not in visible, code
    # no snake_case word but the name of the OAuth method (RFC 7523's own term)
    assert set(re.findall(r"\b[a-z0-9]+_[a-z0-9_]+\b", visible)) == {"private_key_jwt"}
    # the vocabulary's names of a code it does not know
    assert not re.search(r"\bonbekend\b|ander gegeven", visible)


def test_the_page_needs_a_signed_in_officer(app):
    anonymous = app.test_client().get("/ui/verwerkingsregister")
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login?")
    assert signed_in(app, "no-role").get("/ui/verwerkingsregister").status_code == 403


def test_the_openapi_document_describes_both_operations(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    for path, operation_id in (
        (PATH, "listProcessingActivities"),
        (PATH + "/{id}", "getProcessingActivity"),
    ):
        operation = document["paths"][path]["get"]
        assert operation["operationId"] == operation_id
        assert operation["security"] == []
        assert "API-Version" in operation["responses"]["200"]["headers"]
        assert set(operation["responses"]) >= {"200", "400", "429"}
    assert "404" in document["paths"][PATH + "/{id}"]["get"]["responses"]
