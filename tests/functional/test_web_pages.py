"""The pages do what they say, on the same services as the API, and a partner's privacy
officer sees only its own organisation's data (also when typing another id in the URL).

People log in through the development IdP; data is made through the real services (consent
registry, re-identification, audit log), never by writing rows the pages read.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from consent.records import Actor as ConsentActor
from consent.records import NewConsent
from gateway.audit.actors import Actor
from gateway.audit.log import AuditEvent, AuditLog
from gateway.audit.models import AuditEventRow
from gateway.reidentification.models import ReidentificationRequestRow
from gateway.storage.models import Client, Organisation
from pseudonymise import Bsn, DomainPseudonymiser, organisation_domain
from tests.saml_helpers import devidp_login, gateway_app

SCHOOL, SWV, GGD, WIJ, OPERATOR = (
    "00000001001234567000", "00000001002345678000", "00000001003456789000",
    "00000001004567890000", "00000001006789012000",
)
BSN = "111222333"
OTHER_BSN = "123456782"


@pytest.fixture(scope="module")
def app(keys_dir, tmp_path_factory):
    application = gateway_app(tmp_path_factory.mktemp("web-pages"), keys_dir)
    seed(application)
    yield application
    application.extensions["gateway"].db.dispose()


@pytest.fixture(scope="module")
def users(app):
    signed_in = {}
    for user in ("privacy-operator", "privacy-school", "admin-operator"):
        client = app.test_client()
        assert devidp_login(client, user).status_code == 303
        signed_in[user] = client
    return signed_in


def org_id(app, oin: str) -> int:
    with app.extensions["gateway"].db.session() as session:
        return session.scalar(select(Organisation.id).where(Organisation.oin == oin))


def seed(app) -> None:
    audit = app.extensions["gateway"].audit
    db = app.extensions["gateway"].db
    now = datetime.now(UTC)
    child = audit.subject_ref(Bsn(BSN))
    events = [
        AuditEvent("exchange.send", "allowed", actor_org=SCHOOL, sender=SCHOOL, recipient=SWV,
                   message_type="absence_report", subject_ref=child),
        AuditEvent("exchange.send", "allowed", actor_org=SCHOOL, sender=SCHOOL, recipient=SWV,
                   message_type="absence_report", subject_ref=child),
        AuditEvent("exchange.send", "denied", reason="consent_missing", actor_org=SCHOOL,
                   sender=SCHOOL, recipient=GGD, message_type="sickness_absence_referral"),
        AuditEvent("exchange.send", "denied", reason="route_not_allowed", actor_org=GGD,
                   sender=GGD, recipient=WIJ, message_type="jgz_advice",
                   subject_ref=audit.subject_ref(Bsn(OTHER_BSN))),
        AuditEvent("exchange.send", "allowed", actor_org=GGD, sender=GGD, recipient=WIJ,
                   message_type="support_request"),
    ]
    log = AuditLog()
    for event in events:
        with db.write_session() as session:
            log.append(session, event, now)
    consents = app.extensions["gateway"].consents.service
    today = date.today()
    school = ConsentActor(SCHOOL, "school", org_id(app, SCHOOL), "sis")
    wij = ConsentActor(WIJ, "wij", org_id(app, WIJ), "cases")
    app.config["SCHOOL_CONSENT"] = consents.record(NewConsent(
        Bsn(BSN), today - timedelta(days=3000), "mazl", ("school", "ggd"), ("parent",),
        today - timedelta(days=1), today + timedelta(days=300), "written", "form-1"), school).id
    app.config["FOREIGN_CONSENT"] = consents.record(NewConsent(
        Bsn(BSN), today - timedelta(days=3000), "support", (WIJ, GGD), ("parent",),
        today - timedelta(days=1), today + timedelta(days=300), "written", "form-2"), wij).id
    pseudonyms = DomainPseudonymiser(app.extensions["gateway"].keys.keyring)
    service = app.extensions["gateway"].reidentifications
    for oin, type_, note in ((SWV, "swv", "zorgplicht"), (SWV, "swv", "tweede"),
                             (OPERATOR, "operator", "eigen verzoek")):
        pseudonym = pseudonyms.pseudonymise(Bsn(BSN), organisation_domain(oin))
        answer = service.request(Actor(oin, type_, client_id="c"), {
            "pseudonym": pseudonym, "reason": note, "legal_basis": "Wpo art. 18a"})
        app.config[f"REQUEST_{note}"] = answer["id"]


def token_of(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"',
                     client.get("/ui/").get_data(as_text=True)).group(1)


def last_event(app, action: str) -> dict:
    import json

    with app.extensions["gateway"].db.session() as session:
        canonical = session.scalars(
            select(AuditEventRow.canonical).where(AuditEventRow.action == action)
            .order_by(AuditEventRow.seq.desc())
        ).first()
    assert canonical, f"no {action} event"
    return json.loads(canonical)


def text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


# dashboard -----------------------------------------------------------------------------------
def test_the_dashboard_counts_exchanges_and_refusals_of_everyone_for_the_operator(app, users):
    body = text(users["privacy-operator"].get("/ui/"))
    assert '<span class="figure">3</span> uitwisselingen toegestaan' in body
    assert '<span class="figure">2</span> uitwisselingen geweigerd' in body
    assert "Verzuimmelding: School → Samenwerkingsverband" in body
    assert "Route niet toegestaan" in body and "Geen toestemming" in body
    assert body.count("<svg") == 6 and 'role="img"' in body  # 2 exchange + 4 pact charts


def test_the_dashboard_of_a_partner_counts_only_its_own_exchanges(app, users):
    body = text(users["privacy-school"].get("/ui/"))
    assert '<span class="figure">2</span> uitwisselingen toegestaan' in body
    assert '<span class="figure">1</span> uitwisselingen geweigerd' in body
    assert "Route niet toegestaan" not in body
    assert "Ondersteuningsvraag" not in body


def test_the_dashboard_shows_the_pact_indicators(app, users):
    body = text(users["privacy-operator"].get("/ui/"))
    assert "Pactindicatoren schooljaar" in body
    assert "Absoluut verzuim" in body


# audit ---------------------------------------------------------------------------------------
def events_of(body: str) -> str:
    """The events table of a page (the filter dropdowns name every type and action)."""
    return re.search(r'<table class="events">.*?</table>', body).group(0)


def test_the_audit_search_filters_and_records_the_read(app, users):
    body = text(users["privacy-operator"].get("/ui/audit?decision=denied&action=exchange.send"))
    events = events_of(body)
    assert "Geen toestemming" in events and "Route niet toegestaan" in events
    assert "Ondersteuningsvraag" not in events
    assert "consent_missing" not in body and "route_not_allowed" not in body, "codes shown"
    assert "Integriteit gecontroleerd" in body
    event = last_event(app, "audit.search")
    assert event["actor"]["user"] == "p.devries@beheer.thuiszitterspact.example"
    assert event["actor"]["org"] == OPERATOR


def test_a_partner_sees_only_events_of_its_own_organisation(app, users):
    events = events_of(text(users["privacy-school"].get("/ui/audit?action=exchange.send")))
    assert "Geen toestemming" in events
    assert "Route niet toegestaan" not in events
    body = text(users["privacy-school"].get(f"/ui/audit?org={GGD}&action=exchange.send"))
    events = events_of(body)
    assert "Route niet toegestaan" not in events and "Ondersteuningsvraag" not in events


def test_the_audit_pages_through_results(app, users):
    client = users["privacy-operator"]
    body = client.get("/ui/audit?action=exchange.send").get_data(as_text=True)
    assert "Volgende pagina" not in body
    from gateway.web import auditdesk

    original = auditdesk.PAGE_SIZE
    auditdesk.PAGE_SIZE = 2
    try:
        first = client.get("/ui/audit?action=exchange.send").get_data(as_text=True)
        next_url = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
        second = client.get(next_url).get_data(as_text=True)
    finally:
        auditdesk.PAGE_SIZE = original
    assert "page=2" in next_url and "action=exchange.send" in next_url
    assert "Pagina 1 van " in first and "Pagina 2 van " in second
    assert 'rel="prev"' in second


def test_the_csv_export_has_the_partners_events_only_and_is_audited(app, users):
    response = users["privacy-school"].get("/ui/audit/export?format=csv&action=exchange.send")
    assert response.status_code == 200
    assert response.content_type.startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows and all(SCHOOL in (r["sender"], r["recipient"], r["actor.org"]) for r in rows)
    assert last_event(app, "audit.export")["actor"]["user"] == "m.bakker@regenboog.school.example"


def test_a_bad_filter_is_a_dutch_400(app, users):
    response = users["privacy-operator"].get("/ui/audit?from=gisteren")
    assert response.status_code == 400
    assert "is geen geldige datum" in response.get_data(as_text=True)


# subject report ------------------------------------------------------------------------------
def test_the_subject_report_takes_the_bsn_from_a_post_and_lists_the_childs_events(app, users):
    client = users["privacy-operator"]
    form = client.get("/ui/audit/subject").get_data(as_text=True)
    assert 'method="post" action="/ui/audit/subject"' in form
    # the page says what it cannot do: polymorphic-mode events are not reachable by BSN
    assert 'id="polymorphic-limit"' in form and "polymorfe modus" in form
    response = client.post("/ui/audit/subject", data={"bsn": BSN, "csrf_token": token_of(client)})
    assert response.status_code == 200
    body = text(response)
    assert "Verzuimmelding" in body and "absence_report" not in body
    assert "Advies van de jeugdgezondheidszorg" not in body, "another child's event"
    assert BSN not in body
    assert 'data-print' in body
    event = last_event(app, "audit.subject_report")
    assert event["subject_commitment"] and BSN not in str(event)


def test_a_partners_subject_report_shows_only_its_own_events(app, users):
    client = users["privacy-school"]
    body = text(client.post("/ui/audit/subject", data={"bsn": OTHER_BSN,
                                                        "csrf_token": token_of(client)}))
    assert "Advies van de jeugdgezondheidszorg" not in body
    assert "Route niet toegestaan" not in body
    assert "inzagerapport gemaakt" in body, "only the school's own read of this child"


def test_an_invalid_bsn_is_refused_without_repeating_it(app, users):
    client = users["privacy-operator"]
    response = client.post("/ui/audit/subject", data={"bsn": "123456789",
                                                       "csrf_token": token_of(client)})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "geen geldig BSN" in body and "123456789" not in body


# consents ------------------------------------------------------------------------------------
def test_a_partner_finds_its_consents_by_bsn_but_not_other_organisations(app, users):
    client = users["privacy-school"]
    form = client.get("/ui/consents").get_data(as_text=True)
    assert 'id="polymorphic-limit"' in form and "polymorfe modus" in form
    body = text(client.post("/ui/consents", data={"bsn": BSN, "csrf_token": token_of(client)}))
    assert app.config["SCHOOL_CONSENT"] in body
    assert app.config["FOREIGN_CONSENT"] not in body
    assert last_event(app, "consent.search")["actor"]["user"].startswith("m.bakker")


def test_a_partner_cannot_open_another_organisations_consent_by_url(app, users):
    response = users["privacy-school"].get(f"/ui/consents/{app.config['FOREIGN_CONSENT']}")
    assert response.status_code == 404
    assert "niet voor jou zichtbaar" in response.get_data(as_text=True)
    client = users["privacy-school"]
    refused = client.post(f"/ui/consents/{app.config['FOREIGN_CONSENT']}/withdraw",
                          data={"csrf_token": token_of(client), "role": "parent", "reason": "x"})
    assert refused.status_code == 404


def test_the_operator_officer_sees_every_consent_of_the_child_and_may_withdraw(app, users):
    """API.md section 13 rule 3: the recorder, a party named by OIN or the operator withdraws."""
    client = users["privacy-operator"]
    body = text(client.post("/ui/consents", data={"bsn": BSN, "csrf_token": token_of(client)}))
    assert app.config["SCHOOL_CONSENT"] in body and app.config["FOREIGN_CONSENT"] in body
    page = text(client.get(f"/ui/consents/{app.config['FOREIGN_CONSENT']}"))
    assert "Toestemming intrekken" in page


def test_a_partner_officer_finds_a_consent_naming_it_only_once_it_had_the_bsn(app, users):
    """API.md section 13 rule 2, as for the API: a consent another organisation recorded
    that names the school by OIN is found by BSN only after the school sent that BSN."""
    today = date.today()
    wij = ConsentActor(WIJ, "wij", org_id(app, WIJ), "cases")
    named = app.extensions["gateway"].consents.service.record(NewConsent(
        Bsn(BSN), today - timedelta(days=3000), "case_consultation", (WIJ, SCHOOL), ("parent",),
        today - timedelta(days=1), today + timedelta(days=30), "written", "form-3"), wij).id
    client = users["privacy-school"]

    def found() -> bool:
        page = client.post("/ui/consents", data={"bsn": BSN, "csrf_token": token_of(client)})
        return named in text(page)

    assert not found()
    audit = app.extensions["gateway"].audit
    with app.extensions["gateway"].db.write_session() as session:
        AuditLog().append(session, AuditEvent(
            "exchange.send", "allowed", actor_org=SCHOOL, sender=SCHOOL, recipient=SWV,
            message_type="absence_report", subject_ref=audit.subject_ref(Bsn(BSN)),
            clear_to=(SCHOOL,)), datetime.now(UTC))
    assert found()
    assert text(client.get(f"/ui/consents/{named}"))  # a party named by OIN opens it


def test_a_partner_withdraws_a_consent_with_a_reason(app, users):
    client = users["privacy-school"]
    consent_id = app.config["SCHOOL_CONSENT"]
    page = text(client.get(f"/ui/consents/{consent_id}"))
    assert "geldig" in page and "Toestemming intrekken" in page
    missing = client.post(f"/ui/consents/{consent_id}/withdraw",
                          data={"csrf_token": token_of(client), "role": "parent", "reason": ""})
    assert missing.status_code == 422
    response = client.post(f"/ui/consents/{consent_id}/withdraw", data={
        "csrf_token": token_of(client), "role": "parent", "reason": "Ouder trekt in"})
    assert response.status_code == 303
    page = text(client.get(response.headers["Location"]))
    assert "De toestemming is ingetrokken" in page and "ingetrokken" in page
    event = last_event(app, "consent.withdraw")
    assert event["actor"]["user"] == "m.bakker@regenboog.school.example"
    assert event["decision"] == "allowed"


# re-identification ---------------------------------------------------------------------------
def status_of(app, request_id: str) -> str:
    with app.extensions["gateway"].db.session() as session:
        return session.get(ReidentificationRequestRow, request_id).status


def test_the_operator_sees_partner_requests_but_not_its_own(app, users):
    body = text(users["privacy-operator"].get("/ui/reidentifications"))
    assert app.config["REQUEST_zorgplicht"] in body
    assert app.config["REQUEST_eigen verzoek"] not in body
    assert "Wpo art. 18a" in body


def test_the_operator_approves_a_request(app, users):
    client = users["privacy-operator"]
    request_id = app.config["REQUEST_zorgplicht"]
    response = client.post(f"/ui/reidentifications/{request_id}/approve",
                           data={"csrf_token": token_of(client), "reason": ""})
    assert response.status_code == 303
    assert status_of(app, request_id) == "approved"
    assert "goedgekeurd" in text(client.get(response.headers["Location"]))
    event = last_event(app, "reidentification.approve")
    assert event["actor"]["user"] == "p.devries@beheer.thuiszitterspact.example"
    again = client.post(f"/ui/reidentifications/{request_id}/refuse",
                        data={"csrf_token": token_of(client), "reason": "te laat"})
    assert again.status_code == 409


def test_a_refusal_needs_a_reason(app, users):
    client = users["privacy-operator"]
    request_id = app.config["REQUEST_tweede"]
    response = client.post(f"/ui/reidentifications/{request_id}/refuse",
                           data={"csrf_token": token_of(client), "reason": ""})
    assert response.status_code == 422
    assert status_of(app, request_id) == "pending"
    response = client.post(f"/ui/reidentifications/{request_id}/refuse",
                           data={"csrf_token": token_of(client), "reason": "Geen grondslag"})
    assert response.status_code == 303
    assert status_of(app, request_id) == "refused"


def test_the_operator_cannot_decide_its_own_organisations_request(app, users):
    client = users["privacy-operator"]
    request_id = app.config["REQUEST_eigen verzoek"]
    response = client.post(f"/ui/reidentifications/{request_id}/approve",
                           data={"csrf_token": token_of(client)})
    assert response.status_code == 403
    assert "eigen verzoek" in response.get_data(as_text=True)
    assert status_of(app, request_id) == "pending"


# organisations -------------------------------------------------------------------------------
def test_an_admin_adds_an_organisation_and_a_client_and_rotates_its_key(app, users):
    client = users["admin-operator"]
    added = client.post("/ui/organisations", data={
        "csrf_token": token_of(client), "oin": "00000001007890123000",
        "name": "Nieuwe School", "type": "school"})
    assert added.status_code == 303
    assert "Nieuwe School" in text(client.get(added.headers["Location"]))
    assert last_event(app, "admin.organisation.create")["recipient"] == "00000001007890123000"
    thumbprint = "ab" * 32
    created = client.post("/ui/clients", data={
        "csrf_token": token_of(client), "oin": "00000001007890123000", "client_id": "nieuw-sis",
        "auth": "tls_client_auth", "key_material": thumbprint,
        "scopes": ["exchange:send", "exchange:receive"]})
    assert created.status_code == 303, created.get_data(as_text=True)
    rotated = client.post("/ui/clients/nieuw-sis/rotate", data={
        "csrf_token": token_of(client), "auth": "tls_client_auth", "key_material": "cd" * 32})
    assert rotated.status_code == 303
    with app.extensions["gateway"].db.session() as session:
        row = session.scalars(select(Client).where(Client.client_id == "nieuw-sis")).one()
        assert row.tls_cert_sha256 == "cd" * 32
    assert last_event(app, "admin.client.rotate_key")["actor"]["user"].startswith("a.jansen")


def test_an_invalid_organisation_is_refused_with_the_reason(app, users):
    client = users["admin-operator"]
    response = client.post("/ui/organisations", data={
        "csrf_token": token_of(client), "oin": "123", "name": "X", "type": "school"})
    assert response.status_code == 422
    assert "Niet opgeslagen" in response.get_data(as_text=True)
    assert last_event(app, "admin.organisation.create")["decision"] == "denied"


def test_an_admin_suspends_and_activates_an_organisation(app, users):
    client = users["admin-operator"]
    response = client.post(f"/ui/organisations/{WIJ}/status",
                           data={"csrf_token": token_of(client), "status": "suspended"})
    assert response.status_code == 303
    assert "geschorst" in text(client.get(response.headers["Location"]))
    assert app.extensions["gateway"].registry.organisation(WIJ).status == "suspended"
    assert last_event(app, "admin.organisation.suspend")["recipient"] == WIJ
    client.post(f"/ui/organisations/{WIJ}/status",
                data={"csrf_token": token_of(client), "status": "active"})
    assert app.extensions["gateway"].registry.organisation(WIJ).status == "active"


def test_suspending_an_organisation_locks_its_people_out_at_once(app, users):
    admin, school = users["admin-operator"], users["privacy-school"]
    admin.post(f"/ui/organisations/{SCHOOL}/status",
               data={"csrf_token": token_of(admin), "status": "suspended"})
    try:
        response = school.get("/ui/audit")
        assert response.status_code == 403
        assert "geschorst" in response.get_data(as_text=True)
    finally:
        admin.post(f"/ui/organisations/{SCHOOL}/status",
                   data={"csrf_token": token_of(admin), "status": "active"})
    assert school.get("/ui/audit").status_code == 200
