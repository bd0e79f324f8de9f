"""``/ui/retractions`` (issue 19): the operator's privacy officers see open retractions, the
confirmations and a breach-register entry per retraction, in Dutch, without a BSN; nobody
else reaches the page.

People log in through the development IdP; the exchanges, retractions and confirmations are
made through the real services, as the API makes them.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from gateway.oauth.protect import Caller
from gateway.storage.models import Organisation
from gateway.web.views.retractions import remaining
from schemas.retraction import load_retraction
from tests import exchange_helpers as ex
from tests.saml_helpers import devidp_login, gateway_app

SCOPES = frozenset({"exchange:send", "exchange:receive"})


@pytest.fixture(scope="module")
def app(keys_dir, tmp_path_factory):
    application = gateway_app(tmp_path_factory.mktemp("web-retractions"), keys_dir)
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


def caller(app, oin: str) -> Caller:
    with app.extensions["gateway"].db.session() as session:
        org = session.scalars(select(Organisation).where(Organisation.oin == oin)).one()
        return Caller(f"client-{oin[-4:]}", org.id, org.oin, org.type, org.name, SCOPES, "jti")


def send(app, recipient: str, bsn: str = ex.BSN) -> str:
    body = {"message_type": "absence_report", "recipient": recipient,
            "subject": {"bsn": bsn}, "payload": ex.absence_report(ex.today())}
    services = app.extensions["gateway"]
    answer = services.exchanges.send(caller(app, ex.SCHOOL), lambda: body, uuid.uuid4().hex,
                                     str(uuid.uuid4()))
    return answer["id"]


@pytest.fixture(scope="module")
def seeded(app):
    """An open retraction (wrong child, before acknowledgement, with remarks) and a
    confirmed one (after acknowledgement, with a correction)."""
    services = app.extensions["gateway"]
    school = caller(app, ex.SCHOOL)
    wrong = send(app, ex.LEERPLICHT, bsn=ex.OTHER_BSN)
    open_answer, _ = services.retractions.retract(
        school, wrong, {"reason": "wrong_child", "remarks": "Verkeerde leerling in het SIS."})
    to_swv = send(app, ex.SWV)
    swv = caller(app, ex.SWV)
    services.exchanges.ack(swv, to_swv)
    right = send(app, ex.SWV)
    closed_answer, _ = services.retractions.retract(
        school, to_swv, {"reason": "incorrect_content", "corrected_by": right})
    services.retractions.confirm(swv, to_swv)
    return {"open": (wrong, open_answer), "closed": (to_swv, closed_answer), "right": right}


def local(text: str, hours: int = 0) -> str:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00")) + timedelta(hours=hours)
    return moment.astimezone(ZoneInfo("Europe/Amsterdam")).strftime("%d-%m-%Y %H:%M")


def sections(body: str) -> tuple[str, str]:
    open_part, _, closed_part = body.partition('id="h-closed"')
    return open_part, closed_part


def test_the_operator_privacy_officer_sees_open_and_confirmed_retractions(users, seeded):
    response = users["privacy-operator"].get("/ui/retractions")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    open_part, closed_part = sections(body)
    wrong, open_answer = seeded["open"]
    to_swv, closed_answer = seeded["closed"]
    assert wrong in open_part and wrong not in closed_part
    assert to_swv in closed_part and to_swv not in open_part
    # the breach register: what, from whom to whom, when, how many children, had it
    assert "Verzuimmelding van OBS De Regenboog aan Leerplicht Groningen" in open_part
    assert "Bericht over het verkeerde kind" in open_part
    assert "Verkeerde leerling in het SIS." in open_part  # the sender's remarks
    assert "Aantal betrokken kinderen</dt><dd>1<" in open_part
    assert "gewist voordat de ontvanger het ophaalde" in open_part
    assert local(open_answer["retracted_at"]) in open_part
    # the 72-hour deadline of the Autoriteit Persoonsgegevens, counted from the retraction
    assert f"Besluit uiterlijk {local(open_answer['retracted_at'], 72)}" in open_part
    assert re.search(r"\(nog (71|72) uur\)", open_part)
    assert "Nog niet" in open_part
    # the confirmed one: the recipient had it, confirmed, and it is corrected
    assert "Verzuimmelding van OBS De Regenboog aan SWV Groningen Stad" in closed_part
    assert "Onjuiste inhoud" in closed_part
    assert "opgehaald en de ontvangst bevestigd" in closed_part
    assert "Wissen bevestigd door de ontvanger</dt><dd>Ja, op" in closed_part
    assert f"/ui/audit?exchange={seeded['right']}" in closed_part
    assert f"/ui/audit?exchange={to_swv}" in closed_part


def test_the_page_shows_no_bsn_and_no_codes(users, seeded):
    body = users["privacy-operator"].get("/ui/retractions").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", " ", body)
    text = text.replace(seeded["open"][0], "").replace(seeded["closed"][0], "")
    text = text.replace(seeded["right"], "")
    assert ex.BSN not in body and ex.OTHER_BSN not in body
    for code in ("wrong_child", "incorrect_content", "absence_report", "acknowledged",
                 "accepted", "retracted", "delivered"):
        assert code not in text, code


def test_only_the_operators_privacy_officers_reach_the_page(users, seeded):
    for user in ("privacy-school", "admin-operator"):
        response = users[user].get("/ui/retractions")
        assert response.status_code == 403
        assert "<h1>Geen toegang</h1>" in response.get_data(as_text=True)
        assert "alleen voor privacy officers van de beheerorganisatie" in response.get_data(
            as_text=True)
        assert 'href="/ui/retractions"' not in users[user].get("/ui/").get_data(as_text=True)
    home = users["privacy-operator"].get("/ui/").get_data(as_text=True)
    assert 'href="/ui/retractions">Intrekkingen' in home


def test_the_time_left_to_report_in_words():
    now = datetime(2026, 12, 7, 12, 0, tzinfo=ZoneInfo("UTC"))
    assert remaining(now + timedelta(hours=72), now) == "nog 72 uur"
    assert remaining(now + timedelta(minutes=90), now) == "nog 1 uur"
    assert remaining(now + timedelta(minutes=10), now) == "nog minder dan een uur"
    assert remaining(now - timedelta(minutes=1), now) == "de termijn van 72 uur is verstreken"


def test_the_documented_retraction_bodies_pass_the_gateways_own_validation(app):
    """The retract body is documented inline (no component loader in test_openapi_examples):
    its examples are held against ``schemas.retraction`` here."""
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    media = document["paths"]["/api/v1/exchanges/{id}/retract"]["post"]["requestBody"][
        "content"]["application/json"]
    names = [ref["$ref"].rsplit("/", 1)[-1] for ref in media["examples"].values()]
    assert names
    for name in names:
        load_retraction(document["components"]["examples"][name]["value"])


def test_the_audit_log_names_the_retraction_its_confirmation_and_the_correction(users, seeded):
    officer = users["privacy-operator"]
    wrong = seeded["open"][0]
    body = officer.get(f"/ui/audit?exchange={wrong}").get_data(as_text=True)
    assert "bericht ingetrokken" in body and "Bericht over het verkeerde kind" in body
    corrected = seeded["closed"][0]
    body = officer.get(f"/ui/audit?exchange={corrected}").get_data(as_text=True)
    assert "wissen na intrekking bevestigd" in body and "Onjuiste inhoud" in body
    body = officer.get(f"/ui/audit?exchange={seeded['right']}").get_data(as_text=True)
    assert "bericht gecorrigeerd" in body and "Correctie van een ingetrokken bericht" in body
    assert "corrects:" not in body and "wrong_child" not in body


def test_a_consent_withdrawn_on_the_web_page_notifies_its_recipients_too(app, users):
    """AVG art. 19 holds whichever way a consent is withdrawn: the privacy officer's page
    (gateway.web.consentdesk) tells the same organisations as the API does."""
    services = app.extensions["gateway"]
    school = caller(app, ex.SCHOOL)
    child = "999990019"  # a BSN of its own (passes the elfproef), so no other consent covers it
    body = {
        "subject": {"bsn": child}, "date_of_birth": ex.born(ex.today(), 9), "purpose": "mazl",
        "parties": [ex.SCHOOL, "ggd"], "granted_by": [{"role": "parent"}],
        "valid_from": (ex.today() - timedelta(days=1)).isoformat(),
        "valid_until": (ex.today() + timedelta(days=30)).isoformat(),
        "evidence": {"method": "written", "reference": "web-19"},
    }
    consent_id = services.consents.record(school, body, str(uuid.uuid4()))["id"]
    referral = {"message_type": "sickness_absence_referral", "recipient": ex.GGD,
                "subject": {"bsn": child}, "payload": ex.sickness_absence_referral(ex.today())}
    sent = services.exchanges.send(school, lambda: referral, uuid.uuid4().hex,
                                   str(uuid.uuid4()))["id"]
    client = users["privacy-school"]
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get("/ui/").get_data(as_text=True)).group(1)
    response = client.post(f"/ui/consents/{consent_id}/withdraw", data={
        "csrf_token": token, "role": "parent", "reason": "Ouder trekt in"})
    assert response.status_code == 303
    items = services.exchanges.inbox(caller(app, ex.GGD), None, 500)["items"]
    notices = [i for i in items if i["message_type"] == "consent_withdrawn"]
    assert [n["payload"]["consent_id"] for n in notices] == [consent_id]
    assert notices[0]["payload"]["exchange_ids"] == [sent]
