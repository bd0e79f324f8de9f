"""What a partner may learn from the pact's processes (API.md section 13; the attack tests of
docs/pact-workflows.md section 10.1), attacked from outside over real HTTP.

The world is that of ``test_partner_learning.py`` (its scenario and the pact's traffic, built
by the same functions on a server of this module's own): child ``A`` with a consultation
(the school convenes the GGD, leerplicht and the SWV; the WIJ is invited and declines), an
exemption advice (leerplicht asks the GGD and the SWV) and a Lekstroom escalation; child ``B``
with a consultation between the school and the WIJ only. Every attacker is a partner using
only what it holds: its client, its inbox, its cases, its audit view, its privacy officer's
pages. Expected values are written out by hand from the design; what a partner read is
never compared with another of the gateway's own answers.

Rule 1: case references are per participant; no identifier links two partners beyond the
records both are party to; the escalation reaches its holder and reporter only; audit events
carry no case value; every invitation has its own transaction id. Rule 2: opening a case,
looking one up and addressing by role answer the same for the right and a guessed BSN; a
decline's reason reaches the convener only; nothing a partner holds is a function of the BSN.
Rule 3: a type party only answers. Rule 4: the case endpoints never audit an anonymous caller.
Rule 6: every "L learned of O" the contents prove is one ``case.disclose`` event, readable by
L and the operator.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import sqlite3
import uuid
from collections import Counter
from datetime import timedelta

import pytest
import requests

from tests import delivery_helpers as dh
from tests import exchange_helpers as ex
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.partners import register_partners
from tests.security.test_partner_learning import (
    AT_HOME_DAYS,
    CHILD_FIELDS,
    CLEAR,
    DECLINE_REASON,
    LEK_HOMEBOUND,
    LEK_LEERPLICHT,
    LEK_SWV,
    NAMES,
    PACT_A,
    PACT_B,
    REFERRED,
    REGIONS,
    SWV_VO,
    TODAY,
    TYPES,
    answer_of,
    assert_same,
    bsn_functions,
    build_pact_scenario,
    build_scenario,
    call,
    case_refs,
    child_values,
    consent,
    export_rows,
    flat,
    head_seq,
    invitation_payload,
    jws_claims,
    normalise,
    observe,
    open_case,
    received,
    register_pact_partners,
    valid_bsns,
    web_login,
)

pytestmark = pytest.mark.e2e

PARTNERS = [
    ex.SCHOOL,
    ex.LEERPLICHT,
    ex.SWV,
    ex.GGD,
    ex.WIJ,
    ex.GGD_2,
    SWV_VO,
    LEK_LEERPLICHT,
    LEK_SWV,
]
# valid BSNs nobody ever sent, one per probe
GUESS = ("270000021", "270000033", "270000045")
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
CASE_TYPES = {
    "case_invitation",
    "case_response",
    "case_agreements",
    "case_reminder",
    "exemption_advice_request",
    "homebound_escalation",
    "homebound_escalation_closed",
}
ESCALATION_TYPES = {"homebound_escalation", "homebound_escalation_closed"}
# the cases each organisation takes part in, with its kind and role (design 2.1, 3.2, 4.1, 5.2)
CASES = {
    ex.SCHOOL: {("A", "consultation", "convener"), ("B", "consultation", "convener")},
    ex.LEERPLICHT: {
        ("A", "consultation", "invitee"),
        ("exemption", "exemption_advice", "convener"),
    },
    ex.SWV: {("A", "consultation", "invitee"), ("exemption", "exemption_advice", "adviser")},
    ex.GGD: {("A", "consultation", "invitee"), ("exemption", "exemption_advice", "adviser")},
    ex.WIJ: {("A", "consultation", "invitee"), ("B", "consultation", "invitee")},
    ex.GGD_2: set(),
    SWV_VO: set(),
    LEK_LEERPLICHT: {("escalation", "escalation", "reporter")},
    LEK_SWV: {("escalation", "escalation", "holder")},
}


@pytest.fixture(scope="module")
def world(tmp_path_factory, keys_dir):
    instance = tmp_path_factory.mktemp("pact-learning")
    shutil.copytree(keys_dir, instance / "keys")
    server = start_server(instance, instance / "keys")
    try:
        partners = register_partners(server, tmp_path_factory.mktemp("pact-learning-partners"))
        register_pact_partners(server, partners, tmp_path_factory.mktemp("pact-learning-pact"))
        build_scenario(partners)
        pact = build_pact_scenario(server, partners)
        yield server, partners, pact
    finally:
        stop_server(server.process)


# reading -----------------------------------------------------------------------------------
def org(oin: str) -> dict:
    return {"oin": oin, "name": NAMES[oin], "type": TYPES[oin]}


def everything(server, partners, pact, oin: str, bsn: str = PACT_A) -> dict:
    """All a partner can read (``observe``), what it can also ask by (its own pseudonyms),
    the answers its case requests got, and for the school its privacy officer's inzage page."""
    partner = partners[oin]
    seen = observe(partner, bsn)
    pseudonyms = sorted(
        {
            i["subject"]["pseudonym"]
            for i in partner.inbox(limit=500)["items"]
            if "pseudonym" in i["subject"]
        }
    )
    seen[("POST", "by-pseudonym")] = [
        call(partner, "POST", "/api/v1/audit/subject-report", {"subject": {"pseudonym": p}}).json()
        for p in pseudonyms
    ]
    seen[("POST", "case answers")] = pact.answers.get(oin, [])
    if oin == ex.SCHOOL:
        seen[("WEB", "/ui/audit/subject")] = [inzage_page(server, bsn)]
    return seen


def inzage_page(server, bsn: str) -> str:
    """The school's privacy officer's subject report page, as HTML (ids left in)."""
    browser = web_login(server, "privacy-school")
    form = browser.get(f"{server.url}/ui/audit/subject", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    answer = browser.post(
        f"{server.url}/ui/audit/subject", data={"bsn": bsn, "csrf_token": token}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    return answer.text


def dump(node) -> str:
    """All of ``node`` as one text to search in (an observation's keys are tuples)."""

    def keyed(value):
        if isinstance(value, dict):
            return {str(k): keyed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [keyed(v) for v in value]
        return value

    return json.dumps(keyed(node), sort_keys=True, default=str)


def inbox(partner) -> list[dict]:
    return partner.inbox(limit=500)["items"]


def audit_events(partner) -> list[dict]:
    """Every event the partner's audit view holds (all pages)."""
    events, cursor = [], None
    while True:
        params = {"limit": "500", **({"cursor": cursor} if cursor else {})}
        answer = call(partner, "GET", "/api/v1/audit/events", params=params)
        assert answer.status_code == 200, answer.text
        events += answer.json()["items"]
        cursor = answer.json()["next_cursor"]
        if not cursor:
            return events


def operator_events(partners) -> list[dict]:
    response = call(
        partners[ex.OPERATOR], "GET", "/api/v1/audit/export", params={"format": "jsonl"}
    )
    return export_rows(response, "jsonl")


def case_view(partner, ref: str) -> dict:
    answer = call(partner, "GET", f"/api/v1/cases/{ref}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def process_of(item: dict) -> tuple[str, str | None]:
    """A process as a partner can name it: the purpose and, for a consultation, the consent."""
    return item["purpose"], (item.get("legal_basis") or {}).get("consent_id")


# rule 1: unlinkable ------------------------------------------------------------------------
def test_case_refs_are_per_participant(world):
    """(1) Every case_ref a partner can read anywhere is one of its own participations; no
    ref reaches two organisations, none equals an exchange id, a pseudonym or a consent id,
    and one organisation's refs of two cases differ."""
    server, partners, pact = world
    reads = {oin: everything(server, partners, pact, oin) for oin in PARTNERS}
    for oin in PARTNERS:
        own = [pact.refs[(case, oin)] for case, _, _ in CASES[oin]]
        assert len(set(own)) == len(own), f"{oin} holds one ref for two cases"
        assert case_refs(reads[oin]) == set(own), f"{oin} reads a case_ref not its own"
        assert all(UUID4.match(ref) for ref in own), own
    refs = list(pact.refs.values())
    # A: the convener and four invitees; B: two; the exemption: three; the escalation: two
    assert len(refs) == 12 and len(set(refs)) == len(refs), "two participants share a case_ref"
    for oin in PARTNERS:
        text = dump(reads[oin])
        for (case, holder), ref in pact.refs.items():
            if holder != oin:
                assert ref not in text, f"{oin} reads {holder}'s case_ref of case {case}"
    # a ref is a value of its own: no exchange id, pseudonym or consent id is one
    others = set()
    for oin in PARTNERS:
        values = child_values(list(reads[oin].values()))
        others |= {v for v in values if v not in refs}
        others |= {i["id"] for i in inbox(partners[oin])}
    others |= {e["exchange_id"] for e in operator_events(partners) if e.get("exchange_id")}
    others |= {c["id"] for c in pact.consents.values()}
    assert not set(refs) & others


# every record a value was read in, and the kind of value it is
EXCHANGE_KEYS = {"exchange_id", "in_reply_to", "invitation_exchange_id", "report_id"}
ID_KEYS = CHILD_FIELDS | EXCHANGE_KEYS | {"fsc_transaction_id", "consent_id", "jti"}


def identifiers(reads: dict, reader: str) -> dict[str, set]:
    """Every child-identifying value a partner read (subjects, pseudonyms, commitments, case
    refs, exchange ids, transaction ids, consent ids, receipts), with the records it was read
    in: an audit event (``seq``), an exchange (inbox item or exchange answer), a consent; a
    value read outside any record (a case view, a 201) is in a record of the reader's own."""
    values: dict[str, set] = {}

    def walk(node, record):
        if isinstance(node, dict):
            if "seq" in node and "action" in node:
                record = ("event", int(node["seq"]))  # an integer, or a CSV cell
            elif "message_type" in node and "id" in node:
                record = ("exchange", node["id"])
            elif "parties" in node and "id" in node:
                record = ("consent", node["id"])
            for key, value in node.items():
                if (
                    isinstance(value, str)
                    and value
                    and (key in ID_KEYS or (key == "id" and record[0] in ("exchange", "consent")))
                ):
                    values.setdefault(value, set()).add(record)
                if key == "subject" and isinstance(value, dict):
                    for inner in value.values():
                        if isinstance(inner, str):
                            values.setdefault(inner, set()).add(record)
                if key == "exchange_ids" and isinstance(value, list):
                    for inner in value:
                        values.setdefault(inner, set()).add(record)
                if key == "receipt" and isinstance(value, str):
                    walk(jws_claims(value), record)
                walk(value, record)
        elif isinstance(node, list):
            for item in node:
                walk(item, record)

    walk(list(reads.values()), ("own", reader))
    return values


def where(a: dict, b: dict, value: str) -> str:
    return f"{sorted(a[value], key=str)} / {sorted(b[value], key=str)}"


def party_to(oin: str, parties: list[str]) -> bool:
    return oin in parties or TYPES[oin] in parties


class ConsentParties:
    """The parties of a consent, with its recorder, as the recorder reads them."""

    def __init__(self, recorder):
        self.recorder, self.known = recorder, {}

    def parties(self, value: str) -> list[str] | None:
        if value not in self.known:
            answer = (
                call(self.recorder, "GET", f"/api/v1/consents/{value}")
                if re.fullmatch(r"[0-9a-f-]{36}", value)
                else None
            )
            self.known[value] = (
                answer.json()["parties"] + [self.recorder.oin]
                if answer is not None and answer.status_code == 200
                else None
            )
        return self.known[value]


def test_no_value_links_partners_outside_their_case(world):
    """(2) Two partners share no identifier except the BSN where both had it in clear, an
    exchange (or its transaction id) both are sender and recipient of, a consent both are
    party to, and values of one audit event both are party to. Per-participant case refs and
    per-invitation exchange ids make this hold inside a case too."""
    server, partners, pact = world
    reads = {oin: everything(server, partners, pact, oin) for oin in PARTNERS}
    values = {oin: identifiers(reads[oin], oin) for oin in PARTNERS}
    exchanges: dict[str, set] = {}
    transactions: dict[str, set] = {}
    for event in operator_events(partners):
        if (
            event["exchange_id"]
            and event["action"] == "exchange.send"
            and event["decision"] == "allowed"
        ):
            exchanges[event["exchange_id"]] = {event["sender"], event["recipient"]}
            if event.get("fsc_transaction_id"):
                transactions.setdefault(event["fsc_transaction_id"], set()).add(
                    event["exchange_id"]
                )
    consents = ConsentParties(partners[ex.SCHOOL])  # the school recorded every consent
    links = []  # every violation, so that one run names them all
    for position, first in enumerate(PARTNERS):
        for second in PARTNERS[position + 1 :]:
            a, b = values[first], values[second]
            pair = f"{NAMES[first]} and {NAMES[second]} both read"
            for value in sorted(set(a) & set(b)):
                if value in CLEAR:
                    if not {first, second} <= CLEAR[value]:
                        links.append(f"{pair} the BSN {value}")
                elif value in exchanges:
                    if {first, second} != exchanges[value]:
                        links.append(f"{pair} the id of exchange {value} of {exchanges[value]}")
                elif value in transactions:
                    if any({first, second} != exchanges[e] for e in transactions[value]):
                        links.append(
                            f"{pair} the transaction id {value} of exchanges "
                            f"{sorted(transactions[value])}, in {where(a, b, value)}"
                        )
                elif consents.parties(value) is not None:
                    parties = consents.parties(value)
                    if not (party_to(first, parties) and party_to(second, parties)):
                        links.append(f"{pair} consent {value}")
                else:
                    shared = {r for r in a[value] & b[value] if r[0] != "own"}
                    if not (shared and a[value] == b[value] == shared):
                        links.append(
                            f"{pair} {value!r} outside one shared record, in {where(a, b, value)}"
                        )
    assert not links, "\n".join(links)
    # the GGD was not invited to child B's consultation: nothing of it reaches the GGD
    ggd = dump(reads[ex.GGD])
    b_item = pact.items[("B", ex.WIJ)]
    for value in (
        b_item["id"],
        b_item["subject"]["pseudonym"],
        b_item["fsc_transaction_id"],
        pact.refs[("B", ex.WIJ)],
        pact.refs[("B", ex.SCHOOL)],
        pact.consents["B"]["id"],
    ):
        assert value not in ggd, f"the GGD reads {value!r} of child B's consultation"
    # the exemption's advisers are never disclosed to each other
    assert not [
        e
        for e in operator_events(partners)
        if e["action"] == "case.disclose" and e["purpose"] == "exemption_advice"
    ]
    for adviser, other in ((ex.GGD, ex.SWV), (ex.SWV, ex.GGD)):
        item = pact.items[("exemption", adviser)]
        view = case_view(partners[adviser], pact.refs[("exemption", adviser)])
        assert other not in dump([item, view]), f"{adviser} learns of the other adviser"
        assert NAMES[other] not in dump([item, view])


def test_escalation_reaches_only_holder_and_reporter(world):
    """(3) The holder gets the minimal dataset with the involved organisations of the
    legal-obligation routes (no second GGD known only from mazl, no WIJ known only from
    support and a declined invitation), the reporter learns the holder; nobody else has any
    item, event or case about the escalation."""
    server, partners, pact = world
    holder = pact.items[("escalation", LEK_SWV)]
    basis = {"type": "legal_obligation", "citation": REGIONS[1]["escalation_basis"]}
    assert (
        holder["message_type"],
        holder["sender"]["oin"],
        holder["purpose"],
        holder["legal_basis"],
    ) == ("homebound_escalation", ex.OPERATOR, "homebound_escalation", basis)
    [report] = [i for i in inbox(partners[LEK_SWV]) if i["id"] == pact.homebound_report]
    assert holder["subject"] == report["subject"] and "pseudonym" in holder["subject"]
    payload = dict(holder["payload"])
    involved = payload.pop("involved")
    assert payload == {
        "case_ref": pact.refs[("escalation", LEK_SWV)],
        "region": "lekstroom",
        "norm_days": 42,
        "since_date": LEK_HOMEBOUND["since_date"],
        "days_at_home": AT_HOME_DAYS,
        "category": "long_relative_absence",
        "education_sector": "vo",
        "birth_year": int(LEK_HOMEBOUND["date_of_birth"][:4]),
        "reporter": org(LEK_LEERPLICHT),
    }
    assert sorted(involved, key=lambda o: o["oin"]) == [
        org(ex.SCHOOL),
        org(ex.SWV),
        org(ex.GGD),
        org(ex.LEERPLICHT),
    ]
    reporter = pact.items[("escalation", LEK_LEERPLICHT)]
    assert (reporter["sender"]["oin"], reporter["purpose"], reporter["legal_basis"]) == (
        ex.OPERATOR,
        "homebound_escalation",
        basis,
    )
    assert list(reporter["subject"]) == ["pseudonym"]
    assert reporter["payload"] == {
        "case_ref": pact.refs[("escalation", LEK_LEERPLICHT)],
        "region": "lekstroom",
        "norm_days": 42,
        "since_date": LEK_HOMEBOUND["since_date"],
        "days_at_home": AT_HOME_DAYS,
        "holder": org(LEK_SWV),
        "report_id": pact.homebound_report,
    }
    for oin in (LEK_SWV, LEK_LEERPLICHT):
        escalations = [i for i in inbox(partners[oin]) if i["message_type"] in ESCALATION_TYPES]
        assert len(escalations) == 1, escalations
    # everybody else, the involved organisations included, learns nothing of it
    leaks = []
    for oin in PARTNERS:
        if oin in (LEK_SWV, LEK_LEERPLICHT):
            continue
        reads = everything(server, partners, pact, oin)
        items = [i for i in inbox(partners[oin]) if i["message_type"] in ESCALATION_TYPES]
        leaks += [f"{NAMES[oin]} has the item {i['message_type']}" for i in items]
        leaks += [
            f"{NAMES[oin]} reads event {e['seq']} {e['action']} (sender {e['sender']}, "
            f"recipient {e['recipient']}, purpose {e['purpose']})"
            for e in audit_events(partners[oin])
            if e["purpose"] == "homebound_escalation" or e["action"].startswith("escalation.")
        ]
        cases = call(partners[oin], "GET", "/api/v1/cases").json()["items"]
        leaks += [f"{NAMES[oin]} lists an escalation" for c in cases if c["kind"] == "escalation"]
        text = dump(reads)
        leaks += [
            f"{NAMES[oin]} reads the OIN of {NAMES[other]}"
            for other in (LEK_SWV, LEK_LEERPLICHT)
            if other in text
        ]
    assert not leaks, "\n".join(leaks)


def test_case_audit_events_carry_no_case_value(world):
    """(4) No audit event served to anyone (partners and the operator; events, exports,
    subject reports) holds an internal case id or a case_ref: the operator's grouping is the
    unhashed index column."""
    server, partners, pact = world
    path = server.env["GATEWAY_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        case_ids = [r[0] for r in connection.execute("SELECT id FROM pact_cases")]
        refs = [r[0] for r in connection.execute("SELECT case_ref FROM pact_participants")]
    assert len(case_ids) >= 4 and len(refs) >= 12
    assert set(pact.refs.values()) <= set(refs)
    served = {}
    for oin in [*PARTNERS, ex.OPERATOR]:
        partner = partners[oin]
        answers = [audit_events(partner)]
        for fmt in ("jsonl", "csv"):
            answer = call(partner, "GET", "/api/v1/audit/export", params={"format": fmt})
            assert answer.status_code == 200, answer.text
            answers.append(answer.text)
        report = call(partner, "POST", "/api/v1/audit/subject-report", {"subject": {"bsn": PACT_A}})
        answers.append(report.json())
        served[oin] = answers
        for event in answers[0]:
            assert "case_id" not in event and "case_ref" not in event, event
    for oin, answers in served.items():
        text = dump(answers)
        for value in [*case_ids, *refs]:
            assert value not in text, f"an audit answer to {oin} holds the case value {value}"


def test_each_case_message_carries_its_own_transaction_id(world):
    """(5) The caller's Fsc-Transaction-Id reaches the first invitee only; the other
    invitations carry fresh UUIDv7s; a second case request that would pass the same id to
    another organisation is refused with 409 transaction_id_reused and stores nothing."""
    server, partners, pact = world
    school, wij = partners[ex.SCHOOL], partners[ex.WIJ]
    ids = {
        oin: pact.items[("A", oin)]["fsc_transaction_id"]
        for oin in (ex.GGD, ex.LEERPLICHT, ex.SWV, ex.WIJ)
    }
    assert ids[ex.GGD] == pact.transaction_id  # invite.0
    assert len(set(ids.values())) == 4
    assert all(uuid.UUID(ids[oin]).version == 7 for oin in (ex.LEERPLICHT, ex.SWV, ex.WIJ))
    cases_before = call(school, "GET", "/api/v1/cases").json()["items"]
    inbox_before = [i["id"] for i in inbox(wij)]
    reused = open_case(
        school,
        {
            "kind": "consultation",
            "subject": {"bsn": PACT_A},
            "invite": [ex.WIJ],
            "payload": invitation_payload(),
        },
        pact.transaction_id,
    )
    assert reused.status_code == 409, reused.text
    assert reused.json()["code"] == "transaction_id_reused"
    assert call(school, "GET", "/api/v1/cases").json()["items"] == cases_before
    assert [i["id"] for i in inbox(wij)] == inbox_before


# rule 2: no guessed-BSN oracle -------------------------------------------------------------
def test_opening_a_case_cannot_confirm_a_guess(world):
    """(6) The school invites the GGD and the WIJ about a child it sent (REFERRED, whose
    parents consented to mazl only) and about a BSN nobody sent: the same 403 consent_missing,
    and everything the school and the would-be invitees read afterwards is the same; the
    refused case.open is in no would-be invitee's view."""
    server, partners, pact = world
    readers = (ex.SCHOOL, ex.GGD, ex.WIJ)
    for oin in readers:
        observe(partners[oin], None)  # settle: listing an inbox marks its items delivered

    def probe(guess):
        mark = head_seq(server)
        answer = open_case(
            partners[ex.SCHOOL],
            {
                "kind": "consultation",
                "subject": {"bsn": guess},
                "invite": [ex.GGD, ex.WIJ],
                "payload": invitation_payload(),
            },
        )
        seen = {
            oin: observe(partners[oin], None if oin == ex.SCHOOL else guess, mark)
            for oin in readers
        }
        return answer, seen

    right_answer, right = probe(REFERRED)
    wrong_answer, wrong = probe(GUESS[0])
    assert right_answer.status_code == 403, right_answer.text
    assert right_answer.json()["code"] == "consent_missing"
    assert "invite.0" in right_answer.json()["errors"]
    assert normalise(answer_of(right_answer)) == normalise(answer_of(wrong_answer))
    for oin in readers:
        assert_same(flat(right[oin]), flat(wrong[oin]))
    for oin in (ex.GGD, ex.WIJ):
        [events] = right[oin][("GET", "/api/v1/audit/events")]
        assert not [e for e in events if e["action"].startswith("case.")], events
    [events] = right[ex.SCHOOL][("GET", "/api/v1/audit/events")]
    assert [
        (e["action"], e["decision"], e["reason"]) for e in events if e["action"] == "case.open"
    ] == [("case.open", "denied", "consent_missing")]


def test_case_lookups_are_not_an_oracle(world):
    """(7) Another participant's ref, a random UUID and the ref of another organisation's
    closed case answer the same 404; ``GET /cases`` lists a partner's own participations
    only, and nothing looks cases up by child."""
    server, partners, pact = world
    school, wij = partners[ex.SCHOOL], partners[ex.WIJ]
    exemption = case_view(partners[ex.LEERPLICHT], pact.refs[("exemption", ex.LEERPLICHT)])
    assert exemption["status"] == "decided"
    probes = {
        "another participant's ref": pact.refs[("A", ex.GGD)],
        "a random UUID": str(uuid.uuid4()),
        "another organisation's closed case": pact.refs[("exemption", ex.LEERPLICHT)],
        "a ref of the escalation": pact.refs[("escalation", LEK_SWV)],
    }
    answers = {}
    for name, ref in probes.items():
        answer = call(school, "GET", f"/api/v1/cases/{ref}")
        assert (answer.status_code, answer.json()["code"]) == (404, "not_found"), name
        answers[name] = normalise(answer_of(answer))
        accept = call(wij, "POST", f"/api/v1/cases/{ref}/accept", {})
        assert (accept.status_code, accept.json()["code"]) == (404, "not_found"), name
        answers[f"accept: {name}"] = normalise(answer_of(accept))
    views = [v for k, v in answers.items() if not k.startswith("accept")]
    accepts = [v for k, v in answers.items() if k.startswith("accept")]
    assert all(v == views[0] for v in views) and all(v == accepts[0] for v in accepts), answers
    for oin in PARTNERS:
        listed = call(partners[oin], "GET", "/api/v1/cases", params={"limit": "500"}).json()
        assert {(c["case_ref"], c["kind"], c["role"]) for c in listed["items"]} == {
            (pact.refs[(case, oin)], kind, role) for case, kind, role in CASES[oin]
        }, oin
        for summary in listed["items"]:
            assert "subject" not in summary and "participants" not in summary
    document = requests.get(f"{server.url}/api/v1/openapi.json", timeout=10).json()
    cases = {p: item for p, item in document["paths"].items() if p.startswith("/api/v1/cases")}
    assert "/api/v1/cases" in cases and "/api/v1/cases/{case_ref}" in cases, sorted(cases)
    for path, item in cases.items():
        for method, operation in item.items():
            if method not in ("get", "post"):
                continue
            names = {p.get("name") for p in resolved(document, operation.get("parameters", []))}
            assert not names & {"subject", "bsn", "pseudonym"}, (method, path)
            if (method, path) != ("post", "/api/v1/cases"):
                body = resolved(document, operation.get("requestBody", {}))
                assert '"subject"' not in dump(body), f"{method} {path} takes a subject"
    listing = {
        p["name"]
        for p in resolved(document, cases["/api/v1/cases"]["get"].get("parameters", []))
        if p.get("in") == "query"
    }
    assert listing <= {"kind", "status", "cursor", "limit"}, listing


def test_actions_on_another_participants_ref_answer_as_for_an_unknown_one(world):
    """(7) Every case action the WIJ tries with the GGD's ref answers exactly as with a
    random UUID (404), and the GGD, whose ref it is, sees nothing of the attempts."""
    server, partners, pact = world
    wij, ggd = partners[ex.WIJ], partners[ex.GGD]
    day = (TODAY + timedelta(days=9)).isoformat()
    actions = {
        "accept": {},
        "decline": {"reason": "other"},
        "agreements": {
            "regie": ex.WIJ,
            "next_review_date": day,
            "agreements": [{"party": "school", "action": "other", "due_date": day}],
        },
        "agreements/1/done": {},
        "decision": {"decision": "not_exempted", "decided_on": TODAY.isoformat()},
        "close": {"reason": "other"},
    }
    observe(ggd, None)
    before = flat(observe(ggd, None, head_seq(server)))
    mark = head_seq(server)
    for action, body in actions.items():
        answers = []
        for ref in (pact.refs[("A", ex.GGD)], str(uuid.uuid4())):
            answer = call(wij, "POST", f"/api/v1/cases/{ref}/{action}", body)
            assert (answer.status_code, answer.json()["code"]) == (404, "not_found"), (
                action,
                answer.text,
            )
            answers.append(normalise(answer_of(answer)))
        assert answers[0] == answers[1], action
    assert_same(before, flat(observe(ggd, None, mark)))
    assert case_view(ggd, pact.refs[("A", ex.GGD)])["status"] == "agreed"


def resolved(document: dict, node, depth: int = 0):
    """``node`` with every ``$ref`` into the document replaced by its target."""
    if depth > 12:
        return node
    if isinstance(node, dict):
        if "$ref" in node and node["$ref"].startswith("#/"):
            target = document
            for part in node["$ref"][2:].split("/"):
                target = target[part]
            return resolved(document, target, depth + 1)
        return {k: resolved(document, v, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [resolved(document, v, depth + 1) for v in node]
    return node


def test_addressing_is_not_an_oracle(world):
    """(8) An address no organisation serves, and one two organisations serve, answer the
    same for the right BSN and a guessed one, on a send and on a case; the refusals are in
    the sender's and the operator's views only."""
    server, partners, pact = world
    school = partners[ex.SCHOOL]
    watchers = (ex.SWV, SWV_VO, ex.LEERPLICHT, ex.WIJ)
    for oin in watchers:
        observe(partners[oin], None)
    before = {oin: flat(observe(partners[oin], None, head_seq(server))) for oin in watchers}
    nowhere = {"type": "leerplicht", "municipality": "9999"}
    two = {"type": "swv", "region": "groningen"}
    probes = {
        "send, unresolved": (
            lambda g: school.send(
                "absence_report", nowhere, ex.absence_report(TODAY), subject={"bsn": g}
            ),
            404,
            "recipient_unresolved",
        ),
        "send, ambiguous": (
            lambda g: school.send(
                "absence_report", two, ex.absence_report(TODAY), subject={"bsn": g}
            ),
            409,
            "recipient_ambiguous",
        ),
        "case, unresolved": (
            lambda g: open_case(
                school,
                {
                    "kind": "consultation",
                    "subject": {"bsn": g},
                    "invite": [ex.WIJ, nowhere],
                    "payload": invitation_payload(),
                },
            ),
            404,
            "recipient_unresolved",
        ),
        "case, ambiguous": (
            lambda g: open_case(
                school,
                {
                    "kind": "consultation",
                    "subject": {"bsn": g},
                    "invite": [two],
                    "payload": invitation_payload(),
                },
            ),
            409,
            "recipient_ambiguous",
        ),
    }
    mark = head_seq(server)
    for name, (probe, status, code) in probes.items():
        right, wrong = probe(PACT_A), probe(GUESS[1])
        for answer in (right, wrong):
            assert (answer.status_code, answer.json()["code"]) == (status, code), (
                name,
                answer.text,
            )
        assert normalise(answer_of(right)) == normalise(answer_of(wrong)), name
    for oin in watchers:
        assert_same(before[oin], flat(observe(partners[oin], None, mark)))
    refused = [
        e
        for e in operator_events(partners)
        if e["seq"] > mark and e["reason"] in ("recipient_unresolved", "recipient_ambiguous")
    ]
    assert Counter(e["reason"] for e in refused) == {
        "recipient_unresolved": 4,
        "recipient_ambiguous": 4,
    }
    assert all(e["decision"] == "denied" and e["actor"]["org"] == ex.SCHOOL for e in refused)
    own = {e["seq"] for e in audit_events(school)}
    assert {e["seq"] for e in refused} <= own


def test_decline_reason_reaches_only_the_convener(world):
    """(9) The WIJ's reason reaches the school (its inbox and its view of the case) and no
    other participant; the others do not even see that the WIJ declined, and the WIJ, having
    declined, does not see the agreements."""
    server, partners, pact = world
    school = partners[ex.SCHOOL]
    invitation = pact.items[("A", ex.WIJ)]
    [response] = [
        i
        for i in inbox(school)
        if i["message_type"] == "case_response"
        and i["payload"].get("in_reply_to") == invitation["id"]
    ]
    assert response["sender"]["oin"] == ex.WIJ
    assert response["payload"]["response"] == "declined"
    assert response["payload"]["decline_reason"] == DECLINE_REASON
    assert response["payload"]["case_ref"] == pact.refs[("A", ex.SCHOOL)]
    view = case_view(school, pact.refs[("A", ex.SCHOOL)])
    [wij] = [p for p in view["participants"] if p["oin"] == ex.WIJ]
    assert (wij["status"], wij["decline_reason"]) == ("declined", DECLINE_REASON)
    for oin in (ex.GGD, ex.LEERPLICHT, ex.SWV):
        reads = everything(server, partners, pact, oin)
        assert DECLINE_REASON not in dump(reads), f"{oin} reads the WIJ's reason"
        view = case_view(partners[oin], pact.refs[("A", oin)])
        assert "declined" not in dump(view), f"{oin} sees that the WIJ declined"
    declined = case_view(partners[ex.WIJ], pact.refs[("A", ex.WIJ)])
    assert "agreements" not in declined and "regie" not in declined, declined
    assert not [
        i
        for i in inbox(partners[ex.WIJ])
        if i["message_type"] == "case_agreements"
        and i["payload"]["case_ref"] == pact.refs[("A", ex.WIJ)]
    ]


def test_no_new_child_value_can_be_tested_against_10000_bsns(world):
    """(10) Case refs and the pseudonyms of the new items, held by every participant of the
    pact's processes, are no function of the BSN that a partner can compute."""
    server, partners, pact = world
    held = {}
    for oin in (ex.GGD, ex.WIJ, ex.LEERPLICHT, LEK_SWV, LEK_LEERPLICHT):
        values = child_values(list(everything(server, partners, pact, oin).values()))
        held[oin] = {v for v in values if v not in CLEAR}
        assert {pact.refs[(case, oin)] for case, _, _ in CASES[oin]} <= held[oin]
    secrets = {oin: partners[oin].key.as_dict(private=True)["d"].encode() for oin in held}
    for bsn in valid_bsns(10_000, PACT_A, PACT_B):
        for oin, values in held.items():
            assert not bsn_functions(bsn, secrets[oin]) & values, (
                f"a child value of {oin} is a function of the BSN"
            )


# rule 4: anonymous callers never write to the audit log ------------------------------------
def test_case_endpoints_never_audit_an_anonymous_caller(world):
    server, partners, pact = world
    ref = pact.refs[("A", ex.SCHOOL)]
    operations = [
        ("GET", "/api/v1/cases", None),
        ("GET", f"/api/v1/cases/{ref}", None),
        (
            "POST",
            "/api/v1/cases",
            {
                "kind": "consultation",
                "subject": {"bsn": PACT_A},
                "invite": [ex.WIJ],
                "payload": invitation_payload(),
            },
        ),
        ("POST", f"/api/v1/cases/{ref}/accept", {}),
        ("POST", f"/api/v1/cases/{ref}/decline", {"reason": "other"}),
        (
            "POST",
            f"/api/v1/cases/{ref}/agreements",
            {
                "regie": ex.LEERPLICHT,
                "next_review_date": (TODAY + timedelta(days=9)).isoformat(),
                "agreements": [
                    {
                        "party": "school",
                        "action": "other",
                        "due_date": (TODAY + timedelta(days=9)).isoformat(),
                    }
                ],
            },
        ),
        ("POST", f"/api/v1/cases/{ref}/agreements/1/done", {}),
        (
            "POST",
            f"/api/v1/cases/{ref}/decision",
            {"decision": "not_exempted", "decided_on": TODAY.isoformat()},
        ),
        ("POST", f"/api/v1/cases/{ref}/close", {"reason": "other"}),
    ]
    forged = partners[ex.SCHOOL].token().rsplit(".", 1)[0] + ".AAAA"
    before = head_seq(server)
    for method, path, body in operations:
        for authorization in (None, "Bearer not-a-token", f"Bearer {forged}"):
            headers = {"Idempotency-Key": uuid.uuid4().hex}
            if authorization:
                headers["Authorization"] = authorization
            answer = requests.request(
                method, f"{server.url}{path}", json=body, headers=headers, timeout=10
            )
            assert answer.status_code == 401, (method, path, answer.text)
    assert head_seq(server) == before, "an anonymous call on a case endpoint was audited"


# rule 6: sanctioned linkage only, and every disclosure audited -----------------------------
def test_every_disclosure_is_audited(world):
    """Each "L learned of O" of the pact is exactly one case.disclose event (recipient L,
    sender O) readable by L and the operator: for a consultation every invitee of the
    convener and of every other invitee, for the escalation the holder of the reporter and
    of each involved organisation and the reporter of the holder; an exemption discloses
    nobody. And every other organisation a partner finds named in a case it takes part in
    (case messages, case views, case events) is one so disclosed, one it exchanged messages
    with itself in that process, or one it invited."""
    server, partners, pact = world
    a = ("case_consultation", pact.consents["A"]["id"])
    b = ("case_consultation", pact.consents["B"]["id"])
    escalation = ("homebound_escalation", None)
    invitees = (ex.GGD, ex.LEERPLICHT, ex.SWV, ex.WIJ)
    expected = Counter()
    for learner in invitees:
        for learned in (ex.SCHOOL, *invitees):
            if learned != learner:
                expected[(learner, learned, a)] += 1
    expected[(ex.WIJ, ex.SCHOOL, b)] += 1
    for learned in (LEK_LEERPLICHT, ex.SCHOOL, ex.LEERPLICHT, ex.GGD, ex.SWV):
        expected[(LEK_SWV, learned, escalation)] += 1
    expected[(LEK_LEERPLICHT, LEK_SWV, escalation)] += 1
    disclosures = [e for e in operator_events(partners) if e["action"] == "case.disclose"]
    assert (
        Counter((e["recipient"], e["sender"], (e["purpose"], e["consent_id"])) for e in disclosures)
        == expected
    )
    views = {oin: {e["seq"]: e["hash"] for e in audit_events(partners[oin])} for oin in PARTNERS}
    for event in disclosures:
        assert views[event["recipient"]].get(event["seq"]) == event["hash"], event
        assert event["actor"]["org"] == (
            ex.SCHOOL if event["purpose"] == "case_consultation" else ex.OPERATOR
        )
    convened = {ex.SCHOOL: {a, b}, ex.LEERPLICHT: {("exemption_advice", None)}}
    undisclosed = []
    for learner in PARTNERS:
        proven, direct = named_in_cases(partners, pact, learner)
        for learned, process in proven:
            if process in convened.get(learner, set()) or (learned, process) in direct:
                continue
            if expected[(learner, learned, process)] != 1:
                undisclosed.append(f"{NAMES[learner]} learns of {NAMES[learned]} in {process}")
    assert not undisclosed, "learned without a case.disclose event:\n" + "\n".join(undisclosed)


def named_in_cases(partners, pact, learner: str) -> tuple[set, set]:
    """The (organisation, process) pairs ``learner`` finds named in the cases it takes part
    in, and those it exchanged messages with directly in a process."""
    partner = partners[learner]
    known = set(NAMES) - {learner, ex.OPERATOR}
    proven, direct = set(), set()
    processes: dict[str, tuple] = {}

    def named(node) -> set[str]:
        return {s for s in _strings(node) if s in known}

    for item in inbox(partner):
        process = process_of(item)
        if item["sender"]["oin"] != ex.OPERATOR:
            direct.add((item["sender"]["oin"], process))
        if item["message_type"] in CASE_TYPES:
            processes[item["payload"].get("case_ref")] = process
            proven |= {(o, process) for o in named(item["payload"])}
    for case in ("A", "B", "exemption"):
        opened = pact.opened[case]
        if pact.refs.get((case, learner)) == opened["case_ref"]:
            process = (
                ("exemption_advice", None)
                if case == "exemption"
                else ("case_consultation", pact.consents[case]["id"])
            )
            processes[opened["case_ref"]] = process
    for ref, process in processes.items():
        if ref:
            proven |= {(o, process) for o in named(case_view(partner, ref))}
    for event in audit_events(partner):
        process = (event["purpose"], event["consent_id"])
        parties = {event["sender"], event["recipient"], (event["actor"] or {}).get("org")}
        if event["action"].startswith("exchange.") and learner in parties:
            direct |= {(o, process) for o in parties if o in known}
        if event["action"].split(".")[0] in ("case", "exemption", "escalation"):
            proven |= {(o, process) for o in parties if o in known}
    return proven, direct


def _strings(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


# push: what the worker posts is the recipient's own -----------------------------------------
PUSHED_CHILD = "270000057"  # a consultation whose second invitee receives by push


def test_pushed_case_messages_carry_only_their_recipients_values(world, tmp_path):
    """(1, 5) A pushed invitation is the WIJ's inbox item: its own case_ref, and in the body
    and the header its own transaction id, not the caller's (which went to the first
    invitee); nothing of the other invitee is in the request."""
    server, partners, pact = world
    school, wij, ggd = partners[ex.SCHOOL], partners[ex.WIJ], partners[ex.GGD]
    receiver = dh.recipient(f"{server.url}/oauth/jwks", oin=ex.WIJ)
    try:
        register_pact_partners(server, partners, tmp_path, push={ex.WIJ: receiver.delivery_url})
        consent(school, PUSHED_CHILD, [ex.SCHOOL, "ggd", "wij"], purpose="case_consultation")
        transaction_id = str(uuid.uuid4())
        opened = open_case(
            school,
            {
                "kind": "consultation",
                "subject": {"bsn": PUSHED_CHILD},
                "invite": [ex.GGD, ex.WIJ],
                "payload": invitation_payload(),
            },
            transaction_id,
        )
        assert opened.status_code == 201, opened.text
        ids = {p["oin"]: p["exchange_id"] for p in opened.json()["participants"]}
        server.cli("worker", "--once")
        raw = receiver.last_request(ids[ex.WIJ])
    finally:
        register_pact_partners(server, partners, tmp_path)  # the WIJ pulls again
        receiver.stop()
    body = base64.b64decode(raw["body"])
    pushed = json.loads(body)
    headers = {k.lower(): v for k, v in raw["headers"].items()}
    assert pushed == received(wij, ids[ex.WIJ])  # one shape, push or pull
    first = received(ggd, ids[ex.GGD])
    assert first["fsc_transaction_id"] == transaction_id
    assert headers["fsc-transaction-id"] == pushed["fsc_transaction_id"] != transaction_id
    assert uuid.UUID(pushed["fsc_transaction_id"]).version == 7
    ref = pushed["payload"]["case_ref"]
    assert UUID4.match(ref) and ref not in pact.refs.values()
    listed = call(wij, "GET", "/api/v1/cases", params={"limit": "500"}).json()["items"]
    assert ref in {c["case_ref"] for c in listed}
    everything_sent = body.decode() + json.dumps(raw["headers"])
    for value in (
        transaction_id,
        first["payload"]["case_ref"],
        opened.json()["case_ref"],
        first["id"],
        PUSHED_CHILD,
    ):
        assert value not in everything_sent, f"the push to the WIJ carries {value}"


# rule 3: type parties are bound (last: a wrongly allowed withdrawal would end case A) -------
def test_type_party_may_only_answer(world):
    """The consent of child A's consultation names the GGD by type: the GGD answered the
    invitation it received under it, but it cannot convene, record agreements, send a case
    message itself, or withdraw the consent."""
    server, partners, pact = world
    ggd, school = partners[ex.GGD], partners[ex.SCHOOL]
    consent_id = pact.consents["A"]["id"]
    assert "ggd" in pact.consents["A"]["parties"] and ex.GGD not in pact.consents["A"]["parties"]
    [answer] = [
        i
        for i in inbox(school)
        if i["message_type"] == "case_response" and i["sender"]["oin"] == ex.GGD
    ]
    assert answer["legal_basis"] == {"type": "consent", "consent_id": consent_id}
    assert answer["payload"]["response"] == "accepted"
    invitation = pact.items[("A", ex.GGD)]
    convene = open_case(
        ggd,
        {
            "kind": "consultation",
            "subject": invitation["subject"],
            "invite": [ex.WIJ],
            "payload": invitation_payload(),
        },
    )
    assert (convene.status_code, convene.json()["code"]) == (403, "route_not_allowed")
    agree = call(
        ggd,
        "POST",
        f"/api/v1/cases/{pact.refs[('A', ex.GGD)]}/agreements",
        {
            "regie": ex.GGD,
            "next_review_date": (TODAY + timedelta(days=9)).isoformat(),
            "agreements": [
                {
                    "party": ex.GGD,
                    "action": "other",
                    "due_date": (TODAY + timedelta(days=9)).isoformat(),
                }
            ],
        },
    )
    assert (agree.status_code, agree.json()["code"]) == (403, "case_action_not_allowed")
    for message_type, recipient in (
        ("case_agreements", ex.WIJ),
        ("case_invitation", ex.WIJ),
        ("case_response", ex.SCHOOL),
    ):
        sent = ggd.send(
            message_type,
            recipient,
            {"case_ref": pact.refs[("A", ex.GGD)]},
            subject=invitation["subject"],
        )
        assert (sent.status_code, sent.json()["code"]) == (403, "route_not_allowed"), sent.text
    withdraw = call(
        ggd,
        "POST",
        f"/api/v1/consents/{consent_id}/withdraw",
        {"withdrawn_by": {"role": "parent"}, "reason": "probe"},
    )
    assert withdraw.status_code == 403, withdraw.text
    assert call(school, "GET", f"/api/v1/consents/{consent_id}").json()["status"] == "active"
