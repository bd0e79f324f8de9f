"""What a partner may learn (API.md section 13), attacked from outside over real HTTP.

A real gateway (gunicorn, two workers) with the organisations of ``tests.exchange_helpers``
and real traffic. The attacker is a partner organisation using only what it holds: its
client (all partner scopes), its inbox, its privacy officer's web pages.

- Oracles: for each way of testing a guessed BSN, the probe is made once with the right BSN
  and once with a wrong but valid one, and *everything* the attacker can read afterwards is
  compared (normalised for times, ids and random hashes, never for counts, codes or
  decisions). "Everything" is enumerated from the served OpenAPI document: the test fails when
  an operation reachable with a partner's scopes is neither read by :func:`observe` nor listed
  in ``ACTIONS`` with the reason it is no read.
- Linkability: every child-identifying value two partners can read about one child, with
  the place it came from, compared across the two: disjoint, except values of one event that
  both are party to (the event itself is the sanctioned link) and the BSN where both received
  it in clear.
- Hiding: 10,000 valid BSNs, the right one among them, tried against every child-derived
  value a partner holds, with every function a partner can compute.
- The pact's processes (issue 20, docs/pact-workflows.md section 10.1): the world also holds a
  consultation, an exemption advice and a Lekstroom escalation about child ``A`` and a
  consultation between the school and the WIJ about child ``B``; :func:`observe` reads every
  case the attacker holds a reference of. The case-specific attacks are in
  ``test_pact_learning.py``, which builds the same world.
- Verification: an independent verifier (hashlib, rfc8785, cryptography; nothing of the
  product) recomputes every hash, link, leaf and inclusion proof and the signed checkpoint
  from what a partner receives, and the operator additionally opens every commitment.
"""

from __future__ import annotations

import base64
import csv
import difflib
import hashlib
import hmac
import io
import json
import re
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlparse

import pytest
import requests
import rfc8785
from cryptography.hazmat.primitives.asymmetric import ed25519
from joserfc.jwk import ECKey

from gateway.storage.database import Database
from tests import exchange_helpers as ex
from tests.conftest import BACKENDS, create_postgres_database, drop_postgres_database
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.partners import ALL_SCOPES, Partner, register_partners

pytestmark = pytest.mark.e2e
TODAY = ex.today()
SCHOOL_YEAR = (
    f"{TODAY.year - 1}-{TODAY.year}" if TODAY.month < 8 else f"{TODAY.year}-{TODAY.year + 1}"
)

# children of the scenario (valid BSNs, elfproef)
CHILD = ex.BSN  # school -> leerplicht (BSN), school -> swv (pseudonym), leerplicht -> swv
REFERRED = "123456782"  # school -> ggd with consent (pseudonym); ggd replies
REFUSED = "342852498"  # school -> ggd refused: no consent
ELSEWHERE = "995609640"  # only leerplicht ever named it (homebound report to the swv)
# valid BSNs nobody ever sent; each test guesses its own, so that no answer differs only
# because the attacker asked about one of the two BSNs before (its own earlier reports)
WRONG = ("100000010", "100000022", "100000034", "100000046", "100000058", "100000071")

# operations reachable with a partner's scopes that change state rather than read it; each is
# exercised by the scenario or a probe below, and what it answers is compared there
ACTIONS = {
    ("POST", "/api/v1/exchanges"): "the refused-send probe and the scenario",
    ("POST", "/api/v1/inbox/{id}/ack"): "scenario; its answer names only the exchange id",
    ("POST", "/api/v1/consents"): "scenario (the referral's consent)",
    ("POST", "/api/v1/consents/{id}/withdraw"): "a write; rule 3 is tested in test_consent_oracles",
    ("POST", "/api/v1/signals"): "sanctioned linkage with a rate limit (test_signal_probe)",
    ("POST", "/api/v1/signals/{id}/close"): "a write (test_signal_probe)",
    ("POST", "/api/v1/reidentifications"): "needs the caller's own pseudonym; answers pending",
    ("POST", "/oauth/token"): "the attacker's own token",
    ("POST", "/oauth/revoke"): "the attacker's own token",
    ("POST", "/api/v1/reidentifications/{id}/approve"): "operator scope only",
    ("POST", "/api/v1/reidentifications/{id}/refuse"): "operator scope only",
    ("POST", "/api/v1/exchanges/{id}/retract"): "the sender's own exchanges only; anyone else "
    "the 404 of an unknown id (tests/e2e/test_retraction.py); names no child",
    ("POST", "/api/v1/exchanges/{id}/retraction/confirm"): "the recipient of a retracted "
    "exchange only, else 404; answers the exchange id and a time",
    # the pact's case operations (docs/pact-workflows.md section 7); their GETs are read by
    # observe() for every case_ref the attacker holds
    ("POST", "/api/v1/cases"): "the scenario opens every case; its refusals (no consent, an "
    "unresolvable or ambiguous address, a reused transaction id) are compared for the right "
    "and a guessed BSN in test_pact_learning",
    ("POST", "/api/v1/cases/{case_ref}/accept"): "the scenario; only the caller's own "
    "case_ref (another's is the 404 of an unknown ref, test_pact_learning); answers the ref, "
    "a status and a time",
    ("POST", "/api/v1/cases/{case_ref}/decline"): "the scenario (the WIJ declines); its "
    "reason reaches the convener only (test_decline_reason_reaches_only_the_convener)",
    ("POST", "/api/v1/cases/{case_ref}/agreements"): "the scenario; the convener's own case "
    "only; what it delivers is in every participant's inbox, read by observe()",
    ("POST", "/api/v1/cases/{case_ref}/agreements/{no}/done"): "a write by an agreement's "
    "party on its own case_ref only; answers the ref, the number and a time",
    ("POST", "/api/v1/cases/{case_ref}/decision"): "the scenario; the exemption convener's "
    "own case only; answers the advice it received itself",
    ("POST", "/api/v1/cases/{case_ref}/close"): "a write by the convener on its own case_ref "
    "only; answers the ref, a status, a time and the reason it gave",
}
PARTNER_SCOPES = {
    "exchange:send",
    "exchange:receive",
    "consent:write",
    "consent:read",
    "signal:write",
    "reidentify:request",
    "audit:read",
    "monitoring:read",
}


# the world ---------------------------------------------------------------------------------
@pytest.fixture(scope="module", params=BACKENDS)
def world(request, tmp_path_factory, keys_dir):
    """The scenario on SQLite and, with ``GATEWAY_TEST_POSTGRES_URL``, on PostgreSQL: a send's
    reads and writes take other paths there (one joined read, one joined write, psycopg's
    native placeholders), and section 13 must hold on both."""
    instance = tmp_path_factory.mktemp("learning")
    shutil.copytree(keys_dir, instance / "keys")
    url = create_postgres_database("gwlearning") if request.param == "postgresql" else None
    server = start_server(instance, instance / "keys", {"GATEWAY_DATABASE_URL": url} if url else None)
    try:
        partners = register_partners(server, tmp_path_factory.mktemp("learning-partners"))
        register_pact_partners(server, partners, tmp_path_factory.mktemp("learning-pact"))
        build_scenario(partners)
        build_pact_scenario(server, partners)
        yield server, partners
    finally:
        stop_server(server.process)
        if url:
            drop_postgres_database(url)


def call(partner, method, path, body=None, params=None, headers=None):
    return requests.request(
        method,
        f"{partner.base_url}{path}",
        json=body,
        params=params,
        headers=partner.headers(**(headers or {})),
        timeout=30,
    )


def consent(partner, bsn, parties, purpose="mazl"):
    body = {
        "subject": {"bsn": bsn},
        "date_of_birth": ex.born(TODAY, 13),
        "purpose": purpose,
        "parties": parties,
        "granted_by": [{"role": "parent"}, {"role": "youth"}],
        "valid_from": TODAY.isoformat(),
        "valid_until": TODAY.replace(year=TODAY.year + 1).isoformat(),
        "evidence": {"method": "digital", "reference": "portaal-1"},
    }
    response = call(partner, "POST", "/api/v1/consents", body)
    assert response.status_code == 201, response.text
    return response.json()


def build_scenario(partners):
    school, leerplicht = partners[ex.SCHOOL], partners[ex.LEERPLICHT]
    swv, ggd = partners[ex.SWV], partners[ex.GGD]
    for recipient in (ex.LEERPLICHT, ex.SWV):
        answer = school.send(
            "absence_report", recipient, ex.absence_report(TODAY), subject={"bsn": CHILD}
        )
        assert answer.status_code == 202, answer.text
    answer = leerplicht.send(
        "homebound_report", ex.SWV, ex.homebound_report(TODAY), subject={"bsn": CHILD}
    )
    assert answer.status_code == 202, answer.text
    answer = leerplicht.send(
        "homebound_report", ex.SWV, ex.homebound_report(TODAY), subject={"bsn": ELSEWHERE}
    )
    assert answer.status_code == 202, answer.text
    consent(school, REFERRED, [ex.SCHOOL, ex.GGD])
    referral = school.send(
        "sickness_absence_referral",
        ex.GGD,
        ex.sickness_absence_referral(TODAY),
        subject={"bsn": REFERRED},
    )
    assert referral.status_code == 202, referral.text
    [item] = [i for i in ggd.inbox()["items"] if i["id"] == referral.json()["id"]]
    reply = ggd.send(
        "jgz_advice",
        ex.SCHOOL,
        {**ex.jgz_advice(TODAY), "in_reply_to": item["id"]},
        subject=item["subject"],
    )
    assert reply.status_code == 202, reply.text
    refused = school.send(
        "sickness_absence_referral",
        ex.GGD,
        ex.sickness_absence_referral(TODAY),
        subject={"bsn": REFUSED},
    )
    assert refused.status_code == 403, refused.text
    # inboxes are read (not acknowledged) so that the items stay readable
    for partner in (leerplicht, swv, ggd, school):
        partner.inbox()


# the pact's traffic (docs/pact-workflows.md section 10.1) ----------------------------------
PACT_A = "270418945"  # consultation, exemption advice and a Lekstroom escalation
PACT_B = "270000008"  # a consultation between the school and the WIJ only
SWV_VO = "00000001002345678222"  # a second Groningen SWV (vo, vso): region addresses are ambiguous
LEK_LEERPLICHT = "00000001008000000001"  # reports child A homebound in Lekstroom
LEK_SWV = "00000001008000000003"  # holds doorzettingsmacht in Lekstroom
PACT_ORGANISATIONS = [
    (SWV_VO, "SWV VO Groningen", "swv"),
    (LEK_LEERPLICHT, "Leerplicht Nieuwegein", "leerplicht"),
    (LEK_SWV, "SWV VO Zuid Utrecht", "swv"),
]
NAMES = {oin: name for oin, name, _ in [*ex.ORGANISATIONS, *PACT_ORGANISATIONS]}
TYPES = {oin: type_ for oin, _, type_ in [*ex.ORGANISATIONS, *PACT_ORGANISATIONS]}
SERVES = {
    ex.LEERPLICHT: {"municipalities": ["0014"]},
    ex.SWV: {"regions": ["groningen"], "sectors": ["po", "so"]},
    SWV_VO: {"regions": ["groningen"], "sectors": ["vo", "vso"]},
    LEK_LEERPLICHT: {"municipalities": ["0356"]},
    LEK_SWV: {"regions": ["lekstroom"], "sectors": ["vo", "vso"]},
}
REGIONS = [
    {
        "code": "groningen",
        "name": "Thuiszitterspact 2.0 Groningen",
        "municipalities": ["0014"],
        "homebound_norm_days": 91,
        "escalation_recipient": ex.SWV,
        "escalation_basis": "Thuiszitterspact 2.0 Groningen 2021-2024: regionale afspraken over "
        "regie en doorzettingsmacht (AVG art. 6 lid 1 onder e)",
    },
    {
        "code": "lekstroom",
        "name": "Thuiszittersaanpak Lekstroom",
        "municipalities": ["0321", "0353", "0331", "0356", "1961"],
        "homebound_norm_days": 42,
        "escalation_recipient": LEK_SWV,
        "escalation_basis": "Convenant Thuiszittersaanpak Lekstroom 2017-2020: regie en "
        "doorzettingsmacht (AVG art. 6 lid 1 onder e)",
    },
]
AT_HOME_DAYS = 50  # child A's Lekstroom homebound period: past the norm of 42 days
LEK_HOMEBOUND = {
    "category": "long_relative_absence",
    "since_date": (TODAY - timedelta(days=AT_HOME_DAYS)).isoformat(),
    "education_sector": "vo",
    "date_of_birth": ex.born(TODAY, 15),
    "perspective": "none",
}
DECLINE_REASON = "not_involved"
# who sent each child's BSN or received it in clear, by the route policy (the leerplicht office
# in a consultation and the GGD in an exemption advice receive it: design OPEN-8, OPEN-11)
CLEAR = {
    CHILD: {ex.SCHOOL, ex.LEERPLICHT},
    PACT_A: {ex.SCHOOL, ex.LEERPLICHT, ex.GGD, LEK_LEERPLICHT},
    PACT_B: {ex.SCHOOL},
    REFERRED: {ex.SCHOOL},
    REFUSED: {ex.SCHOOL},
    ELSEWHERE: {ex.LEERPLICHT},
}


@dataclass
class Pact:
    """What the scenario did and was answered, for the tests to compare with."""

    consents: dict[str, dict] = field(default_factory=dict)
    opened: dict[str, dict] = field(default_factory=dict)  # case name -> the 201
    refs: dict[tuple[str, str], str] = field(default_factory=dict)  # (case, oin) -> case_ref
    items: dict[tuple[str, str], dict] = field(default_factory=dict)  # (case, oin) -> its item
    answers: dict[str, list] = field(default_factory=dict)  # oin -> every case answer it got
    transaction_id: str = ""  # the Fsc-Transaction-Id of the request opening case A
    homebound_report: str = ""  # the Lekstroom report's exchange id

    def answered(self, oin: str, response) -> dict:
        self.answers.setdefault(oin, []).append(answer_of(response))
        return response.json()


def register_pact_partners(server, partners: dict, tmp_path, push: dict | None = None) -> None:
    """The regions, the areas the organisations serve (design 6.2) and three more
    organisations, applied as an operator would: a second bootstrap file that repeats the
    registered organisations with their clients, so nothing but ``serves`` changes for them.
    ``push`` gives organisations a delivery URL (all others receive by pull)."""
    organisations = []
    for oin, name, type_ in [*ex.ORGANISATIONS, *PACT_ORGANISATIONS]:
        if oin not in partners:
            client_id = f"pact-{type_}-{oin[-3:]}"
            key = ECKey.generate_key("P-256", parameters={"kid": f"{client_id}-1", "alg": "ES256"})
            partners[oin] = Partner(oin, type_, client_id, key, server.url)
        partner = partners[oin]
        scopes = (
            ["reidentify:approve", "audit:read", "monitoring:read"]
            if type_ == "operator"
            else ALL_SCOPES
        )
        organisation = {
            "oin": oin,
            "name": name,
            "type": type_,
            "delivery_url": (push or {}).get(oin),
            "clients": [
                {
                    "client_id": partner.client_id,
                    "auth": "private_key_jwt",
                    "jwks": {"keys": [partner.key.as_dict(private=False)]},
                    "scopes": scopes,
                }
            ],
        }
        if oin in SERVES:
            organisation["serves"] = SERVES[oin]
        organisations.append(organisation)
    path = tmp_path / "pact.yaml"
    path.write_text(json.dumps({"regions": REGIONS, "organisations": organisations}))
    server.cli("bootstrap", str(path))


def invitation_payload() -> dict:
    return {
        "meeting": {
            "date": (TODAY + timedelta(days=7)).isoformat(),
            "time": "14:30",
            "mode": "in_person",
        },
        "question": "prevent_dropout",
        "concern_categories": ["wellbeing", "family_situation"],
        "education_sector": "po",
        "school_brin": "12AB",
        "date_of_birth": ex.born(TODAY, 13),
        "unauthorised_hours_4_weeks": 16,
        "sick_days_12_weeks": 9,
        "respond_by": (TODAY + timedelta(days=5)).isoformat(),
        "contact": {"name": "Mentor J. de Vries", "email": "mentor@regenboog.example.nl"},
    }


def exemption_payload() -> dict:
    return {
        "school_year": SCHOOL_YEAR,
        "requested_on": (TODAY - timedelta(days=3)).isoformat(),
        "education_sector": "po",
        "date_of_birth": ex.born(TODAY, 13),
        "enrolment": "enrolled",
        "school_brin": "12AB",
        "statement_by": "physician",
        "respond_by": (TODAY + timedelta(days=14)).isoformat(),
        "contact": {
            "name": "L. Bakker, leerplichtambtenaar",
            "email": "leerplicht@groningen.example.nl",
        },
    }


def open_case(partner, body, transaction_id=None):
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    if transaction_id:
        headers["Fsc-Transaction-Id"] = transaction_id
    return call(partner, "POST", "/api/v1/cases", body, headers=headers)


def received(partner, exchange_id: str) -> dict:
    [item] = [i for i in partner.inbox(limit=500)["items"] if i["id"] == exchange_id]
    return item


def build_pact_scenario(server, partners) -> Pact:
    """Section 10.1's world: child A with a consultation (school convenes GGD, leerplicht and
    SWV, the latter two by role address; the WIJ is invited and declines), an exemption advice
    (leerplicht asks the GGD and the SWV) and a Lekstroom escalation; child B with a
    consultation between the school and the WIJ only. Child A is also known to a second GGD
    (mazl) and to the WIJ (support) only under consents, so that the escalation's list of
    involved organisations must leave them out."""
    pact = Pact()
    school, leerplicht, swv = partners[ex.SCHOOL], partners[ex.LEERPLICHT], partners[ex.SWV]
    ggd, wij = partners[ex.GGD], partners[ex.WIJ]
    lek_leerplicht = partners[LEK_LEERPLICHT]

    # legal-obligation traffic about A: the school reports it absent to leerplicht
    sent = school.send(
        "absence_report", ex.LEERPLICHT, ex.absence_report(TODAY), subject={"bsn": PACT_A}
    )
    assert sent.status_code == 202, sent.text
    # consent-only involvement of A: a second GGD (mazl) and the WIJ (support)
    consent(school, PACT_A, [ex.SCHOOL, ex.GGD_2])
    sent = school.send(
        "sickness_absence_referral",
        ex.GGD_2,
        ex.sickness_absence_referral(TODAY),
        subject={"bsn": PACT_A},
    )
    assert sent.status_code == 202, sent.text
    consent(school, PACT_A, [ex.SCHOOL, "wij"], purpose="support")
    sent = school.send(
        "support_request", ex.WIJ, ex.support_request(TODAY), subject={"bsn": PACT_A}
    )
    assert sent.status_code == 202, sent.text

    # A: the consultation
    pact.consents["A"] = consent(
        school, PACT_A, [ex.SCHOOL, "ggd", "leerplicht", "swv", "wij"], purpose="case_consultation"
    )
    pact.transaction_id = str(uuid.uuid4())
    body = {
        "kind": "consultation",
        "subject": {"bsn": PACT_A},
        "invite": [
            ex.GGD,
            {"type": "leerplicht", "municipality": "0014"},
            {"type": "swv", "region": "groningen", "education_sector": "po"},
            ex.WIJ,
        ],
        "payload": invitation_payload(),
    }
    response = open_case(school, body, pact.transaction_id)
    assert response.status_code == 201, response.text
    opened = pact.opened["A"] = pact.answered(ex.SCHOOL, response)
    pact.refs[("A", ex.SCHOOL)] = opened["case_ref"]
    invited = {p["oin"]: p["exchange_id"] for p in opened["participants"]}
    assert set(invited) == {ex.GGD, ex.LEERPLICHT, ex.SWV, ex.WIJ}, opened
    for oin, exchange_id in invited.items():
        item = pact.items[("A", oin)] = received(partners[oin], exchange_id)
        pact.refs[("A", oin)] = item["payload"]["case_ref"]
    for oin in (ex.GGD, ex.LEERPLICHT, ex.SWV):
        contact = {"contact": {"name": f"Contact {NAMES[oin]}", "email": "team@example.nl"}}
        response = call(
            partners[oin],
            "POST",
            f"/api/v1/cases/{pact.refs[('A', oin)]}/accept",
            contact if oin == ex.GGD else {},
        )
        assert response.status_code == 200, response.text
        pact.answered(oin, response)
    response = call(
        wij, "POST", f"/api/v1/cases/{pact.refs[('A', ex.WIJ)]}/decline", {"reason": DECLINE_REASON}
    )
    assert response.status_code == 200, response.text
    pact.answered(ex.WIJ, response)
    agreements = {
        "regie": ex.LEERPLICHT,
        "agreements": [
            {
                "party": ex.GGD,
                "action": "jgz_consultation",
                "due_date": (TODAY + timedelta(days=14)).isoformat(),
            },
            {
                "party": ex.SWV,
                "action": "arrangement_request",
                "due_date": (TODAY + timedelta(days=21)).isoformat(),
            },
            {
                "party": "school",
                "action": "adjusted_timetable",
                "due_date": (TODAY + timedelta(days=7)).isoformat(),
            },
            {
                "party": "parents",
                "action": "attend_conversation",
                "due_date": (TODAY + timedelta(days=7)).isoformat(),
            },
        ],
        "next_review_date": (TODAY + timedelta(days=30)).isoformat(),
    }
    response = call(
        school, "POST", f"/api/v1/cases/{pact.refs[('A', ex.SCHOOL)]}/agreements", agreements
    )
    assert response.status_code == 201, response.text
    pact.answered(ex.SCHOOL, response)

    # B: a consultation between the school and the WIJ only
    pact.consents["B"] = consent(school, PACT_B, [ex.SCHOOL, "wij"], purpose="case_consultation")
    response = open_case(
        school,
        {
            "kind": "consultation",
            "subject": {"bsn": PACT_B},
            "invite": [ex.WIJ],
            "payload": invitation_payload(),
        },
    )
    assert response.status_code == 201, response.text
    opened = pact.opened["B"] = pact.answered(ex.SCHOOL, response)
    pact.refs[("B", ex.SCHOOL)] = opened["case_ref"]
    [participant] = opened["participants"]
    item = pact.items[("B", ex.WIJ)] = received(wij, participant["exchange_id"])
    pact.refs[("B", ex.WIJ)] = item["payload"]["case_ref"]
    response = call(wij, "POST", f"/api/v1/cases/{pact.refs[('B', ex.WIJ)]}/accept", {})
    assert response.status_code == 200, response.text
    pact.answered(ex.WIJ, response)
    response = call(
        school,
        "POST",
        f"/api/v1/cases/{pact.refs[('B', ex.SCHOOL)]}/agreements",
        {
            "regie": ex.WIJ,
            "agreements": [
                {
                    "party": ex.WIJ,
                    "action": "support_trajectory",
                    "due_date": (TODAY + timedelta(days=28)).isoformat(),
                }
            ],
            "next_review_date": (TODAY + timedelta(days=35)).isoformat(),
        },
    )
    assert response.status_code == 201, response.text
    pact.answered(ex.SCHOOL, response)

    # A: the exemption advice; the SWV by role address
    response = open_case(
        leerplicht,
        {
            "kind": "exemption_advice",
            "subject": {"bsn": PACT_A},
            "advisers": [ex.GGD, {"type": "swv", "region": "groningen", "education_sector": "po"}],
            "payload": exemption_payload(),
        },
    )
    assert response.status_code == 201, response.text
    opened = pact.opened["exemption"] = pact.answered(ex.LEERPLICHT, response)
    pact.refs[("exemption", ex.LEERPLICHT)] = opened["case_ref"]
    asked = {p["oin"]: p["exchange_id"] for p in opened["participants"]}
    assert set(asked) == {ex.GGD, ex.SWV}, opened
    for oin, exchange_id in asked.items():
        item = pact.items[("exemption", oin)] = received(partners[oin], exchange_id)
        pact.refs[("exemption", oin)] = item["payload"]["case_ref"]
    item = pact.items[("exemption", ex.GGD)]
    answer = ggd.send(
        "exemption_medical_advice",
        ex.LEERPLICHT,
        {
            "in_reply_to": item["id"],
            "advice": "fit_with_adjustments",
            "contact": {"name": "Jeugdarts A. de Boer", "email": "jgz@ggd.example.nl"},
        },
        subject=item["subject"],
    )
    assert answer.status_code == 202, answer.text
    item = pact.items[("exemption", ex.SWV)]
    answer = swv.send(
        "exemption_education_advice",
        ex.LEERPLICHT,
        {
            "in_reply_to": item["id"],
            "arrangement": "available_with_conditions",
            "options": ["education_care_arrangement", "adjusted_timetable"],
            "contact": {"name": "M. Smit, orthopedagoog SWV", "email": "loket@swv.example.nl"},
        },
        subject=item["subject"],
    )
    assert answer.status_code == 202, answer.text
    response = call(
        leerplicht,
        "POST",
        f"/api/v1/cases/{pact.refs[('exemption', ex.LEERPLICHT)]}/decision",
        {"decision": "not_exempted", "decided_on": TODAY.isoformat()},
    )
    assert response.status_code == 200, response.text
    pact.answered(ex.LEERPLICHT, response)

    # A: at home in Lekstroom past the norm; the daily run escalates to the holder
    report = lek_leerplicht.send(
        "homebound_report", LEK_SWV, LEK_HOMEBOUND, subject={"bsn": PACT_A}
    )
    assert report.status_code == 202, report.text
    pact.homebound_report = report.json()["id"]
    server.cli("pact", "run")
    for oin in (LEK_SWV, LEK_LEERPLICHT):
        [item] = [
            i
            for i in partners[oin].inbox(limit=500)["items"]
            if i["message_type"] == "homebound_escalation"
        ]
        pact.items[("escalation", oin)] = item
        pact.refs[("escalation", oin)] = item["payload"]["case_ref"]
    # every inbox is listed once more, so that no reader's first observation delivers (and
    # audits, visibly to the sender too) what arrived since
    for partner in partners.values():
        if partner.type != "operator":
            partner.inbox(limit=500)
    return pact


# reading everything a partner can read -----------------------------------------------------
def served_operations(server) -> dict[tuple[str, str], list[str]]:
    document = requests.get(f"{server.url}/api/v1/openapi.json", timeout=10).json()
    operations = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                scopes = [
                    s
                    for requirement in operation.get("security", [])
                    for s in requirement.get("oauth2", [])
                ]
                operations[(method.upper(), path)] = scopes
    return operations


def partner_reachable(operations) -> set[tuple[str, str]]:
    """Operations a partner's client can call: public ones and those its scopes open."""
    return {
        op
        for op, scopes in operations.items()
        if not scopes or set(scopes) & PARTNER_SCOPES or scopes == []
    }


CONSISTENCY_SIZE: dict[str, int] = {}


def observe(partner, bsn: str | None, after: int = 0) -> dict[tuple[str, str], object]:
    """Every answer ``partner`` can read, keyed by the operation that gave it. Audit events,
    exports and proofs are limited to ``seq > after``; ``bsn`` is what it searches with."""
    seen: dict[tuple[str, str], object] = {}

    def read(method, path, body=None, template=None, **kwargs):
        response = call(partner, method, path, body, **kwargs)
        seen.setdefault((method, template or path), []).append(answer_of(response))
        return response

    events = read("GET", "/api/v1/audit/events", params={"limit": "500"}).json()["items"]
    seen[("GET", "/api/v1/audit/events")] = [[e for e in events if e["seq"] > after]]
    if bsn is not None:
        read("POST", "/api/v1/audit/subject-report", {"subject": {"bsn": bsn}})
        read("POST", "/api/v1/consents/search", {"subject": {"bsn": bsn}})
    for fmt in ("jsonl", "csv"):
        response = call(partner, "GET", "/api/v1/audit/export", params={"format": fmt})
        seen[("GET", "/api/v1/audit/export")] = seen.get(("GET", "/api/v1/audit/export"), []) + [
            [row for row in export_rows(response, fmt) if int(row["seq"]) > after]
        ]
    verify = read("GET", "/api/v1/audit/verify").json()
    own = [e["seq"] for e in events if e["seq"] > after]
    if own:
        read("GET", f"/api/v1/audit/proof/{own[-1]}", template="/api/v1/audit/proof/{seq}")
    else:
        seen[("GET", "/api/v1/audit/proof/{seq}")] = []
    size = verify["checkpoint"]["tree_size"] if verify.get("checkpoint") else 1
    # the same sizes for every observation: a proof is a function of the sizes asked for, and
    # which checkpoint is newest depends on the clock (one is signed every 10 s of appends),
    # not on the guess; the first size seen in this module is asked for ever after
    size = CONSISTENCY_SIZE.setdefault("to_size", size)
    read("GET", "/api/v1/audit/consistency", params={"from_size": 1, "to_size": size})
    read("GET", "/api/v1/audit/key")
    read("GET", "/api/v1/audit/checkpoint")
    inbox = read("GET", "/api/v1/inbox").json()["items"]
    # the cases it takes part in, and every one it holds a reference of (design section 7)
    cases = read("GET", "/api/v1/cases", params={"limit": "500"}).json()["items"]
    refs = sorted({c["case_ref"] for c in cases} | case_refs(inbox))
    seen[("GET", "/api/v1/cases/{case_ref}")] = [
        answer_of(call(partner, "GET", f"/api/v1/cases/{r}")) for r in refs
    ]
    exchange_ids = sorted(
        {i["id"] for i in inbox} | {e["exchange_id"] for e in events if e.get("exchange_id")}
    )
    seen[("GET", "/api/v1/exchanges/{id}")] = [
        answer_of(call(partner, "GET", f"/api/v1/exchanges/{i}")) for i in exchange_ids
    ]
    seen[("GET", "/api/v1/exchanges/{id}/retraction")] = [
        answer_of(call(partner, "GET", f"/api/v1/exchanges/{i}/retraction")) for i in exchange_ids
    ]
    consent_ids = sorted(
        {i["legal_basis"].get("consent_id") for i in inbox if i["legal_basis"].get("consent_id")}
    )
    seen[("GET", "/api/v1/consents/{id}")] = [
        answer_of(call(partner, "GET", f"/api/v1/consents/{i}")) for i in consent_ids
    ]
    read("GET", "/api/v1/me")
    read("GET", "/api/v1/monitoring/indicators", params={"school_year": SCHOOL_YEAR})
    read("GET", "/api/v1/pep/public-key")
    read("GET", "/api/v1/pep/key-share")
    seen[("GET", "/api/v1/reidentifications/{id}")] = []  # the attacker filed none
    seen[("GET", "/api/v1/openapi.json")] = []  # the same document for everyone
    for path in ("/oauth/jwks", "/.well-known/oauth-authorization-server"):
        seen[("GET", path)] = [answer_of(requests.get(f"{partner.base_url}{path}", timeout=10))]
    # the register of processing activities: public, the same for every caller, describes
    # the processing and never a child; read whole, so that a change that made it depend on
    # the caller or a child would show in the comparisons
    register = requests.get(f"{partner.base_url}/api/v1/processing-activities", timeout=10)
    seen[("GET", "/api/v1/processing-activities")] = [answer_of(register)]
    activities = register.json().get("activities", []) if register.status_code == 200 else []
    seen[("GET", "/api/v1/processing-activities/{id}")] = [
        answer_of(
            requests.get(f"{partner.base_url}/api/v1/processing-activities/{a['id']}", timeout=10)
        )
        for a in activities
    ]
    token = partner.token()
    form = {
        "token": token,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": partner.assertion(f"{partner.base_url}/oauth/introspect"),
    }
    seen[("POST", "/oauth/introspect")] = [
        answer_of(requests.post(f"{partner.base_url}/oauth/introspect", data=form, timeout=10))
    ]
    return seen


def case_refs(node) -> set[str]:
    """Every ``case_ref`` anywhere in ``node`` (the payloads of case messages carry the
    recipient's own)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "case_ref" and isinstance(value, str):
                found.add(value)
            found |= case_refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= case_refs(value)
    return found


def answer_of(response) -> dict:
    try:
        body = response.json()
    except ValueError:
        body = response.text
    headers = {
        k: v
        for k, v in response.headers.items()
        if k.lower()
        not in (
            "date",
            "content-length",
            "server",
            "connection",
            "x-ratelimit-remaining",
            "x-ratelimit-reset",
        )
    }
    return {"status": response.status_code, "body": body, "headers": headers}


def export_rows(response, fmt: str) -> list[dict]:
    assert response.status_code == 200, response.text
    if fmt == "jsonl":
        return [json.loads(line) for line in response.text.splitlines() if line]
    return list(csv.DictReader(io.StringIO(response.text)))


VOLATILE = [
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})"), "<time>"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "<sha256>"),
    (re.compile(r"[A-Za-z0-9_\-+/=.]{40,}"), "<token>"),
]
COUNTERS = {
    "seq",
    "tree_size",
    "leaf_index",
    "entries",
    "from_size",
    "to_size",
    "exp",
    "iat",
    "nbf",
    "retry_after",
}


TRACE_FIELDS = {"trace_id", "span_id"}
"""An audit event's W3C trace of its processing (issue 22): drawn at random for each request
and each event, so an id of its own like a transaction id. It may still link two partners:
the linkability and hiding tests read it as a child value (``CHILD_FIELDS``)."""
TRACE_ID = re.compile(r"[0-9a-f]{32}|[0-9a-f]{16}")


def normalise(value, key: str | None = None):
    """Times, ids, digests and tokens become their kind; counts, codes and lists stay."""
    if isinstance(value, dict):
        return {
            k: normalise(v, k)
            for k, v in sorted(value.items())
            if k.lower() not in ("fsc-transaction-id", "etag", "next_cursor")
        }
    if key == "audit_path" and isinstance(value, list):
        return "<path>"  # its length follows the public tree size, not the child
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if key in COUNTERS and (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
        return "<n>"
    if key in TRACE_FIELDS and isinstance(value, str) and TRACE_ID.fullmatch(value):
        return "<trace>"
    if isinstance(value, str):
        for pattern, kind in VOLATILE:
            value = pattern.sub(kind, value)
        value = re.sub(r"\n\d+\n", "\n<n>\n", value)  # tree size in signed notes
    return value


def flat(observed: dict) -> dict:
    """Normalised, keyed by ``"METHOD path"``."""
    return normalise({f"{m} {p}": v for (m, p), v in observed.items()})


def observation_after(probe, attacker, guess, server) -> dict:
    mark = head_seq(server)
    probe(guess)
    return flat(observe(attacker, guess, mark))


def head_seq(server) -> int:
    from sqlalchemy import text

    db = Database(server.env["GATEWAY_DATABASE_URL"])
    try:
        with db.engine.connect() as connection:
            return connection.execute(text("SELECT seq FROM audit_head WHERE id = 1")).scalar()
    finally:
        db.dispose()


def assert_same(right: dict, wrong: dict) -> None:
    assert right.keys() == wrong.keys()
    for operation in right:
        if right[operation] != wrong[operation]:
            a = json.dumps(right[operation], indent=1, sort_keys=True).splitlines()
            b = json.dumps(wrong[operation], indent=1, sort_keys=True).splitlines()
            diff = "\n".join(difflib.unified_diff(a, b, "right", "wrong", lineterm="", n=2))
            raise AssertionError(
                f"{operation} answers differently for the right and a wrong BSN:\n{diff}"
            )


# enumeration -------------------------------------------------------------------------------
def test_every_operation_a_partner_reaches_is_observed_or_exercised(world):
    server, partners = world
    reachable = partner_reachable(served_operations(server))
    observed = set(observe(partners[ex.SWV], WRONG[0]))
    missing = reachable - observed - set(ACTIONS)
    assert not missing, f"operations no oracle test reads or exercises: {sorted(missing)}"


# oracles -----------------------------------------------------------------------------------
def test_subject_report_cannot_confirm_a_guess(world):
    """(1) The SWV knows CHILD only by its pseudonym; its report by BSN may not tell."""
    server, partners = world
    swv = partners[ex.SWV]

    def probe(guess):
        call(swv, "POST", "/api/v1/audit/subject-report", {"subject": {"bsn": guess}})

    right = observation_after(probe, swv, CHILD, server)
    wrong = observation_after(probe, swv, WRONG[1], server)
    assert_same(right, wrong)
    report = call(swv, "POST", "/api/v1/audit/subject-report", {"subject": {"bsn": CHILD}}).json()
    # only its own lookups by that BSN; none of the exchanges it received by pseudonym
    assert report["items"] and all(
        e["actor"]["org"] == ex.SWV and not e["action"].startswith("exchange.")
        for e in report["items"]
    )


def test_a_refused_send_cannot_confirm_a_guess(world):
    """(2) A send the route policy refuses stores nothing the sender reads that depends on
    the child: its audit view, reports and exports are the same for either guess."""
    server, partners = world
    swv = partners[ex.SWV]

    def probe(guess):
        answer = swv.send(
            "absence_report", ex.GGD, ex.absence_report(TODAY), subject={"bsn": guess}
        )
        assert answer.status_code == 403 and answer.json()["code"] == "route_not_allowed"

    assert_same(
        observation_after(probe, swv, ELSEWHERE, server),
        observation_after(probe, swv, WRONG[2], server),
    )


def test_consent_search_cannot_confirm_a_guess(world):
    """(3) The GGD received REFERRED by pseudonym under a consent; searching that consent by
    a guessed BSN may not find it."""
    server, partners = world
    ggd = partners[ex.GGD]

    def probe(guess):
        call(ggd, "POST", "/api/v1/consents/search", {"subject": {"bsn": guess}})

    right = observation_after(probe, ggd, REFERRED, server)
    wrong = observation_after(probe, ggd, WRONG[3], server)
    assert_same(right, wrong)


def test_a_refused_referral_is_invisible_to_its_would_be_recipient(world):
    """(4) A referral refused for want of consent never reaches the GGD's view, so a later
    report by a guessed BSN cannot reveal the child whose family refused."""
    server, partners = world
    school, ggd = partners[ex.SCHOOL], partners[ex.GGD]
    observe(ggd, None)  # settle: listing the inbox marks its items delivered
    before = flat(observe(ggd, None, head_seq(server)))
    mark = head_seq(server)
    refused = school.send(
        "sickness_absence_referral",
        ex.GGD,
        ex.sickness_absence_referral(TODAY),
        subject={"bsn": REFUSED},
    )
    assert refused.status_code == 403 and refused.json()["code"] == "consent_missing"
    after = flat(observe(ggd, None, mark))
    assert before == after, "the would-be recipient saw the refusal"

    def probe(guess):
        call(ggd, "POST", "/api/v1/audit/subject-report", {"subject": {"bsn": guess}})

    assert_same(
        observation_after(probe, ggd, REFUSED, server),
        observation_after(probe, ggd, WRONG[4], server),
    )


def test_guessing_whether_a_child_is_known_to_the_gateway_at_all(world):
    """The school never touched ELSEWHERE (only leerplicht named it): neither its API nor its
    privacy officer's web pages may tell that child from one nobody ever named."""
    server, partners = world
    school = partners[ex.SCHOOL]

    def probe(guess):
        call(school, "POST", "/api/v1/audit/subject-report", {"subject": {"bsn": guess}})

    assert_same(
        observation_after(probe, school, ELSEWHERE, server),
        observation_after(probe, school, WRONG[5], server),
    )
    browser = web_login(server, "privacy-school")
    right = web_pages(server, browser, ELSEWHERE)
    wrong = web_pages(server, browser, WRONG[5])
    assert right == wrong


def web_login(server, user_key: str) -> requests.Session:
    """The privacy officer's browser: the whole SP-initiated flow through the development IdP."""
    browser = requests.Session()
    start = browser.get(f"{server.url}/login", allow_redirects=False, timeout=10)
    location = start.headers["Location"]
    parts = urlparse(location)
    page = browser.get(f"{server.url}{parts.path}?{parts.query}", timeout=10)
    fields = dict(re.findall(r'name="(SAMLRequest|RelayState|token)" value="([^"]*)"', page.text))
    answer = browser.post(f"{server.url}/devidp/sso", data={**fields, "user": user_key}, timeout=10)
    fields = dict(re.findall(r'name="(SAMLResponse|RelayState)" value="([^"]*)"', answer.text))
    done = browser.post(f"{server.url}/saml/acs", data=fields, timeout=10)
    assert done.status_code in (200, 302, 303), done.text
    return browser


def web_pages(server, browser, guess: str) -> dict:
    pages = {}
    form = browser.get(f"{server.url}/ui/audit/subject", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    for path, data in (("/ui/audit/subject", {"bsn": guess}), ("/ui/consents", {"bsn": guess})):
        answer = browser.post(f"{server.url}{path}", data={**data, "csrf_token": token}, timeout=10)
        pages[path] = (answer.status_code, page_text(answer.text))
    # /ui/audit lists what GET /api/v1/audit/events answers (one service), compared above
    # event by event; its HTML also grows with this test's own reads, so it is not diffed here
    for path in ("/ui/", "/ui/consents"):
        answer = browser.get(f"{server.url}{path}", timeout=10)
        pages[path] = (answer.status_code, page_text(answer.text))
    return pages


def page_text(html: str) -> str:
    text = re.sub(r"<[^>]+>", " ", html)
    text = re.sub(r"\b\d{9}\b", "<bsn>", text)  # the page echoes the BSN that was asked for
    text = re.sub(r"\d{1,2}[-:]\d{2}([-:]\d{2,4})?", "<t>", text)
    text = re.sub(r"\b\d+\b", "<n>", text)
    return normalise(re.sub(r"\s+", " ", text))


# linkability -------------------------------------------------------------------------------
CHILD_FIELDS = {
    "bsn",
    "pseudonym",
    "subject_ref",
    "subject_commitment",
    "encrypted_pseudonym",
    "polymorphic",
    "subject_opening",
    "case_ref",
    # the trace of the processing an audit event records (issue 22): one trace per request,
    # so a value two partners read in two events of one request links them
    "trace_id",
    "span_id",
}


def child_values(observed) -> dict[str, set]:
    """Every child-identifying value in what was read, with the events it came from."""
    values: dict[str, set] = {}

    def walk(node, context):
        if isinstance(node, dict):
            # the record the value belongs to: an audit event, an exchange or a consent
            here = node.get("seq") or node.get("jti") or node.get("id") or context
            for key, value in node.items():
                if key in CHILD_FIELDS and isinstance(value, str) and value:
                    values.setdefault(value, set()).add(here)
                if key == "subject" and isinstance(value, dict):
                    for inner in value.values():
                        if isinstance(inner, str):
                            values.setdefault(inner, set()).add(here)
                if key == "receipt" and isinstance(value, str):
                    walk(jws_claims(value), here)
                walk(value, here)
        elif isinstance(node, list):
            for item in node:
                walk(item, context)

    walk(observed, None)
    return values


def all_strings(observed) -> set[str]:
    found = set()

    def walk(node):
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            found.add(node)

    walk(observed)
    return found


def jws_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.mark.parametrize(
    "first, second",
    [
        (ex.LEERPLICHT, ex.SWV),
        (ex.SWV, ex.GGD),
        (ex.LEERPLICHT, ex.GGD),
        (ex.SCHOOL, ex.SWV),
        (ex.SCHOOL, ex.GGD),
    ],
)
def test_no_value_about_a_child_links_two_partners(world, first, second):
    server, partners = world
    seen = {oin: observe(partners[oin], CHILD) for oin in (first, second)}
    for oin in (first, second):  # what a partner can also ask by: its own pseudonyms
        pseudonyms = {
            i["subject"]["pseudonym"]
            for i in partners[oin].inbox()["items"]
            if "pseudonym" in i["subject"]
        }
        seen[oin]["by-pseudonym"] = [
            call(
                partners[oin], "POST", "/api/v1/audit/subject-report", {"subject": {"pseudonym": p}}
            ).json()
            for p in sorted(pseudonyms)
        ]
    a, b = child_values(list(seen[first].values())), child_values(list(seen[second].values()))
    clear_to_both = {bsn for bsn, holders in CLEAR.items() if {first, second} <= holders}
    for value in set(a) & set(b):
        if value in clear_to_both:
            continue
        shared_events = (a[value] & b[value]) - {None}
        assert shared_events and a[value] == b[value] == shared_events, (
            f"{first} and {second} both read the child value {value!r} outside one shared event"
        )
    # nor may a child value of one appear anywhere in the other's answers
    strings_b = all_strings(list(seen[second].values()))
    for value, where in a.items():
        if value in strings_b and value not in clear_to_both:
            assert value in b and where & b[value] - {None}, (
                f"{first}'s child value {value!r} appears in {second}'s answers"
            )


# hiding ------------------------------------------------------------------------------------
def valid_bsns(count: int, *include: str) -> list[str]:
    found, number = list(include), 100000000
    while len(found) < count:
        number += 1
        digits = f"{number:09d}"
        total = sum(int(d) * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True))
        if total != 0 and total % 11 == 0 and digits not in include:
            found.append(digits)
    return found


def bsn_functions(bsn: str, client_secret: bytes) -> set[str]:
    """What a partner can compute from a guessed BSN (and its own client key)."""
    raw = bsn.encode()
    return {
        hashlib.sha256(raw).hexdigest(),
        hashlib.sha256(b"audit" + raw).hexdigest(),
        hashlib.sha256(b"thuiszitterspact/audit-subject/v1\x00" + raw).hexdigest(),
        hmac.new(client_secret, raw, hashlib.sha256).hexdigest(),
        base64.urlsafe_b64encode(hashlib.sha256(raw).digest()).decode().rstrip("="),
        bsn,
    }


def test_no_child_value_a_partner_holds_can_be_tested_against_10000_bsns(world):
    server, partners = world
    swv = partners[ex.SWV]
    values = child_values(list(observe(swv, CHILD).values()))
    values = {v for v in values if v != CHILD}
    assert values, "the SWV read no child-derived value at all: the test would prove nothing"
    client_secret = swv.key.as_dict(private=True)["d"].encode()
    # the pact's children too: the SWV holds case refs and pseudonyms of child A
    for bsn in valid_bsns(10_000, CHILD, PACT_A, PACT_B):
        candidates = bsn_functions(bsn, client_secret)
        assert not candidates & values, "a child value of the SWV is a function of the BSN"


# verification by every reader --------------------------------------------------------------
VIEW_MEMBERS = ("hash", "subject_ref", "subject_opening")


def independent_leaf(event: dict) -> bytes:
    hashed = rfc8785.dumps({k: v for k, v in event.items() if k not in VIEW_MEMBERS})
    return hashed


def inclusion_root(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes | None:
    """RFC 9162 section 2.1.3.2, from the RFC's text."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn % 2 == 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def check_note(note: str, key: dict, root_hex: str, size: int) -> None:
    text, signature_line = note.split("\n\n")
    public = base64.b64decode(key["public_key"])
    raw = base64.b64decode(signature_line.rstrip("\n").split(" ")[2])
    ed25519.Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], (text + "\n").encode())
    lines = text.split("\n")
    assert int(lines[1]) == size and base64.b64decode(lines[2]).hex() == root_hex


@pytest.mark.parametrize("reader", [ex.OPERATOR, ex.SWV, ex.GGD])
def test_every_reader_verifies_the_chain_and_proofs_from_what_it_receives(world, reader):
    server, partners = world
    partner = partners[reader]
    response = call(partner, "GET", "/api/v1/audit/export", params={"format": "jsonl"})
    events = export_rows(response, "jsonl")
    assert events
    by_seq = {e["seq"]: e for e in events}
    for event in events:
        hashed = independent_leaf(event)
        assert hashlib.sha256(hashed).hexdigest() == event["hash"], event["seq"]
        if event["seq"] - 1 in by_seq:
            assert event["prev_hash"] == by_seq[event["seq"] - 1]["hash"]
        if reader == ex.OPERATOR:
            if event["subject_commitment"] is not None:
                opened = hashlib.sha256(
                    b"thuiszitterspact/audit-subject/v1\x00"
                    + bytes.fromhex(event["subject_opening"])
                    + event["subject_ref"].encode()
                ).hexdigest()
                assert opened == event["subject_commitment"]
        else:
            assert event["subject_ref"] is None and "subject_opening" not in event
    if reader == ex.OPERATOR:
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert events[0]["prev_hash"] == "0" * 64
    key = requests.get(f"{server.url}/api/v1/audit/key", timeout=10).json()
    for event in events[-3:]:
        proof = call(partner, "GET", f"/api/v1/audit/proof/{event['seq']}").json()
        leaf = hashlib.sha256(b"\x00" + independent_leaf(event)).digest()
        root = inclusion_root(
            event["seq"] - 1,
            proof["tree_size"],
            leaf,
            [bytes.fromhex(h) for h in proof["audit_path"]],
        )
        assert root is not None and root.hex() == proof["root_hash"]
        check_note(proof["checkpoint"]["note"], key, proof["root_hash"], proof["tree_size"])
    subject = {"bsn": CHILD} if reader != ex.SWV else None
    if subject:
        report = call(partner, "POST", "/api/v1/audit/subject-report", {"subject": subject})
        for event in report.json()["items"]:
            assert hashlib.sha256(independent_leaf(event)).hexdigest() == event["hash"]


def test_the_operator_still_finds_the_whole_trail_by_bsn(world):
    server, partners = world
    operator, school = partners[ex.OPERATOR], partners[ex.SCHOOL]
    report = call(
        operator, "POST", "/api/v1/audit/subject-report", {"subject": {"bsn": CHILD}}
    ).json()["items"]
    sends = [e for e in report if e["action"] == "exchange.send" and e["decision"] == "allowed"]
    assert {(e["sender"], e["recipient"]) for e in sends} >= {
        (ex.SCHOOL, ex.LEERPLICHT),
        (ex.SCHOOL, ex.SWV),
        (ex.LEERPLICHT, ex.SWV),
    }
    assert len({e["subject_ref"] for e in report}) == 1
    # and a partner still sees its own events
    own = call(school, "GET", "/api/v1/audit/events", params={"limit": "500"}).json()["items"]
    assert {e["exchange_id"] for e in sends if e["sender"] == ex.SCHOOL} <= {
        e["exchange_id"] for e in own
    }
    ids = {uuid.UUID(e["exchange_id"]) for e in sends if e["decision"] == "allowed"}
    assert len(ids) == 3
