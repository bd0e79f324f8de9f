"""The consent registry as an attacker partner uses it (API.md section 13, rules 1 to 3).

Every test plays a partner with real tokens through the Flask test client and compares what
it can read. The search-oracle tests make the same requests with the right BSN and with a
wrong but valid one and require identical answers (status and body), so that a partner that
knows a child only by its pseudonym cannot confirm a guessed BSN.
"""

from __future__ import annotations

import uuid

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from gateway.registry.service import ClientCredentials, OrganisationRegistry
from pseudonymise import Bsn, organisation_domain
from tests import exchange_helpers as ex
from tests.functional.test_consent_api import Partners
from tests.oauth_helpers import make_client_key

TODAY = ex.today()
SCHOOL_2 = "00000001001234567111"  # a school that has nothing to do with the child
GUESS = "123456782"  # a valid BSN of no child the tests exchange about
SEARCH = "/api/v1/consents/search"
WITHDRAW = {"withdrawn_by": {"role": "parent"}, "reason": "Ouders trekken in."}


@pytest.fixture
def gw(database_url, keys_dir):
    partners = Partners(database_url, keys_dir)
    registry = OrganisationRegistry(partners.db, production=False)
    registry.add_organisation(SCHOOL_2, "CBS De Wegwijzer", "school")
    partners.keys[SCHOOL_2] = make_client_key()
    registry.add_client(
        SCHOOL_2, f"client-{SCHOOL_2}",
        ClientCredentials("private_key_jwt", jwks=partners.keys[SCHOOL_2].jwks()),
        ["exchange:send", "exchange:receive", "consent:write", "consent:read"],
    )
    yield partners
    partners.close()


def send(gw, sender, message_type, recipient, payload, subject=None):
    body = {"message_type": message_type, "recipient": recipient,
            "subject": subject or {"bsn": ex.BSN}, "payload": payload}
    return gw.post(sender, "/api/v1/exchanges", body, **{"Idempotency-Key": uuid.uuid4().hex})


def inbox(gw, oin) -> list[dict]:
    response = gw.get(oin, "/api/v1/inbox")
    assert response.status_code == 200, response.json
    return response.json["items"]


def recorded(gw, oin=ex.SCHOOL, **changes) -> dict:
    response = gw.record(oin, **changes)
    assert response.status_code == 201, response.json
    return response.json


def referral_received(gw, parties) -> tuple[dict, dict]:
    """The school records a MAZL consent and refers the child; the GGD's inbox item."""
    consent = recorded(gw, parties=parties)
    sent = send(gw, ex.SCHOOL, "sickness_absence_referral", ex.GGD,
                ex.sickness_absence_referral(TODAY))
    assert sent.status_code == 202, sent.json
    [item] = inbox(gw, ex.GGD)
    assert item["legal_basis"] == {"type": "consent", "consent_id": consent["id"]}
    assert set(item["subject"]) == {"pseudonym"}
    return consent, item


def readable(response) -> tuple:
    """Everything the caller can read of an answer (the headers that vary per request aside)."""
    return response.status_code, response.headers["Content-Type"], response.get_data(as_text=True)


def search(gw, oin, subject) -> tuple:
    return readable(gw.post(oin, SEARCH, {"subject": subject}))


# rule 2: no guessing oracle ----------------------------------------------------------------
@pytest.mark.parametrize("parties", [(ex.SCHOOL, ex.GGD), (ex.SCHOOL, "ggd")],
                         ids=["ggd-by-oin", "ggd-by-type"])
def test_a_pseudonymised_recipient_cannot_confirm_a_guessed_bsn_by_search(gw, parties):
    consent, item = referral_received(gw, parties)
    right, wrong = search(gw, ex.GGD, {"bsn": ex.BSN}), search(gw, ex.GGD, {"bsn": GUESS})
    assert right == wrong
    assert consent["id"] not in right[2]
    # the GGD finds the consent by what it was given: its own pseudonym
    mine = gw.post(ex.GGD, SEARCH, {"subject": item["subject"]})
    assert mine.status_code == 200, mine.json
    assert [c["id"] for c in mine.json["items"]] == [consent["id"]]


def test_naming_a_guessed_bsn_in_a_refused_request_does_not_open_the_search(gw):
    """Naming a BSN is something a guesser can always do, so it is no proof of having it."""
    referral_received(gw, (ex.SCHOOL, ex.GGD))
    answers = []
    for guess in (ex.BSN, GUESS):
        # a request refused whatever the child: the audit log records that the GGD named it
        refused = send(gw, ex.GGD, "jgz_advice", ex.SCHOOL,
                       dict(ex.jgz_advice(TODAY), advice="no_such_advice"),
                       subject={"bsn": guess})
        assert (refused.status_code, refused.json["code"]) == (422, "validation_failed")
        answers.append(search(gw, ex.GGD, {"bsn": guess}))
    assert answers[0] == answers[1]
    assert answers[0][0] == 200


def test_recording_a_consent_for_a_guessed_bsn_reveals_nothing_of_other_consents(gw):
    consent, _ = referral_received(gw, (ex.SCHOOL, ex.GGD))
    before = readable(gw.get(ex.GGD, f"/api/v1/consents/{consent['id']}"))
    found = {}
    for guess in (ex.BSN, GUESS):
        # the GGD states the same consent for its guess, then looks
        own = recorded(gw, ex.GGD, bsn=guess, parties=(ex.SCHOOL, ex.GGD))
        items = gw.post(ex.GGD, SEARCH, {"subject": {"bsn": guess}}).json["items"]
        found[guess] = [c["id"] for c in items if c["id"] != own["id"]]
        # recording does not replace the school's consent either (its status would tell)
        assert readable(gw.get(ex.GGD, f"/api/v1/consents/{consent['id']}")) == before
    assert found[ex.BSN] == found[GUESS] == []


def test_a_pseudonym_not_issued_to_the_caller_answers_like_an_unused_bsn(gw):
    _, item = referral_received(gw, (ex.SCHOOL, ex.GGD))
    unused = search(gw, ex.SWV, {"bsn": GUESS})
    assert unused[0] == 200
    others = gw.pseudonymiser.pseudonymise(Bsn(ex.BSN), organisation_domain(ex.SWV))
    for pseudonym in (item["subject"]["pseudonym"], "A" * 35, others[:-1] + "x"):
        assert search(gw, ex.SWV, {"pseudonym": pseudonym}) == unused


def test_bsn_search_finds_oin_consents_only_where_the_caller_had_the_bsn(gw):
    """Leerplicht receives the BSN by law; the SWV only its pseudonym of the child."""
    for recipient in (ex.LEERPLICHT, ex.SWV):
        sent = send(gw, ex.SCHOOL, "absence_report", recipient, ex.absence_report(TODAY))
        assert sent.status_code == 202, sent.json
    with_leerplicht = recorded(gw, purpose="case_consultation",
                               parties=(ex.SCHOOL, ex.LEERPLICHT))
    with_swv = recorded(gw, purpose="case_consultation", parties=(ex.SCHOOL, ex.SWV))
    leerplicht = gw.post(ex.LEERPLICHT, SEARCH, {"subject": {"bsn": ex.BSN}})
    assert [c["id"] for c in leerplicht.json["items"]] == [with_leerplicht["id"]]
    assert search(gw, ex.SWV, {"bsn": ex.BSN}) == search(gw, ex.SWV, {"bsn": GUESS})
    [item] = inbox(gw, ex.SWV)
    swv = gw.post(ex.SWV, SEARCH, {"subject": item["subject"]})
    assert [c["id"] for c in swv.json["items"]] == [with_swv["id"]]
    # the recorder finds everything it recorded, type parties or not
    school = gw.post(ex.SCHOOL, SEARCH, {"subject": {"bsn": ex.BSN}})
    assert {c["id"] for c in school.json["items"]} == {with_leerplicht["id"], with_swv["id"]}


# rule 3: type parties are bound ------------------------------------------------------------
def test_an_unrelated_school_cannot_send_on_another_schools_type_consent(gw):
    consent = recorded(gw, parties=("school", "ggd"))
    own = send(gw, ex.SCHOOL, "sickness_absence_referral", ex.GGD,
               ex.sickness_absence_referral(TODAY))
    assert own.status_code == 202, own.json
    foreign = send(gw, SCHOOL_2, "sickness_absence_referral", ex.GGD,
                   ex.sickness_absence_referral(TODAY))
    assert foreign.status_code == 403, foreign.json
    assert foreign.json["code"] == "consent_missing"
    assert consent["id"] not in foreign.get_data(as_text=True)


def test_a_type_party_replies_only_to_what_it_received_under_the_consent(gw):
    consent, item = referral_received(gw, (ex.SCHOOL, "ggd"))
    advice = dict(ex.jgz_advice(TODAY), in_reply_to=item["id"])
    reply = send(gw, ex.GGD, "jgz_advice", ex.SCHOOL, advice, subject=item["subject"])
    assert reply.status_code == 202, reply.json
    [answer] = inbox(gw, ex.SCHOOL)
    assert answer["legal_basis"] == {"type": "consent", "consent_id": consent["id"]}
    unprompted = send(gw, ex.GGD, "jgz_advice", ex.SCHOOL, ex.jgz_advice(TODAY),
                      subject=item["subject"])
    assert (unprompted.status_code, unprompted.json["code"]) == (403, "consent_missing")
    other_ggd = send(gw, ex.GGD_2, "jgz_advice", ex.SCHOOL, ex.jgz_advice(TODAY))
    assert (other_ggd.status_code, other_ggd.json["code"]) == (403, "consent_missing")


def test_wij_feedback_replies_to_a_support_request_under_a_type_consent(gw):
    consent = recorded(gw, purpose="support", parties=("school", "wij"))
    sent = send(gw, ex.SCHOOL, "support_request", ex.WIJ, ex.support_request(TODAY))
    assert sent.status_code == 202, sent.json
    [item] = inbox(gw, ex.WIJ)
    feedback = dict(ex.support_feedback(TODAY), in_reply_to=item["id"])
    reply = send(gw, ex.WIJ, "support_feedback", ex.SCHOOL, feedback, subject=item["subject"])
    assert reply.status_code == 202, reply.json
    [answer] = inbox(gw, ex.SCHOOL)
    assert answer["legal_basis"]["consent_id"] == consent["id"]


def test_an_unrelated_organisation_of_the_type_neither_sees_nor_withdraws(gw):
    consent, _ = referral_received(gw, (ex.SCHOOL, "ggd", "school"))
    url = f"/api/v1/consents/{consent['id']}"
    unknown = f"/api/v1/consents/{uuid.uuid4()}"
    for outsider in (SCHOOL_2, ex.GGD_2):
        for path in (url, unknown):
            answer = gw.get(outsider, path)
            assert (answer.status_code, answer.json["code"]) == (404, "not_found")
        withdraw = gw.post(outsider, f"{url}/withdraw", WITHDRAW)
        missing = gw.post(outsider, f"{unknown}/withdraw", WITHDRAW)
        assert readable(withdraw)[:2] == readable(missing)[:2] == (404, "application/problem+json")
        assert withdraw.json["code"] == missing.json["code"] == "not_found"
        assert withdraw.json["detail"] == missing.json["detail"]
    assert gw.get(ex.SCHOOL, url).json["status"] == "active"
    # the GGD that received the referral under it sees it, but a type party does not withdraw
    assert gw.get(ex.GGD, url).status_code == 200
    refused = gw.post(ex.GGD, f"{url}/withdraw", WITHDRAW)
    assert refused.status_code == 403, refused.json
    assert gw.get(ex.SCHOOL, url).json["status"] == "active"


def test_a_party_named_by_oin_withdraws(gw):
    consent = recorded(gw, parties=("school", ex.GGD))
    withdrawn = gw.post(ex.GGD, f"/api/v1/consents/{consent['id']}/withdraw", WITHDRAW)
    assert withdrawn.status_code == 200, withdrawn.json
    assert withdrawn.json["status"] == "withdrawn"


# rule 1: receipts carry no per-child value -------------------------------------------------
def test_receipts_of_one_childs_consents_share_no_value_that_differs_for_another_child(gw):
    keys = KeySet.import_key_set(gw.client.get("/oauth/jwks").json)
    same = dict(parties=(ex.SCHOOL, "ggd"), start=-10, end=100)
    first = recorded(gw, **same)
    second = recorded(gw, **same)
    other_child = recorded(gw, bsn=ex.OTHER_BSN, **same)
    claims = [jwt.decode(c["receipt"], keys).claims for c in (first, second, other_child)]
    for name in set(claims[0]) - {"iat"}:  # the time of issue is no property of the child
        if claims[0][name] == claims[1].get(name):
            assert claims[2].get(name) == claims[0][name], name
    assert claims[0].get("subject_ref") != claims[1].get("subject_ref")
    assert all(ex.BSN not in str(value) for value in claims[0].values())
