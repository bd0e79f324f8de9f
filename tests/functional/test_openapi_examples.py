"""Examples in the served OpenAPI document (issue 18): every operation shows a request body
example for each media type it takes and an answer example for every documented answer with a
body; every example validates against its own schema (JSON Schema 2020-12, the dialect of
OpenAPI 3.1, with the document's ``$ref``s resolved and formats checked); request examples are
also accepted by the gateway's own marshmallow schemas; problem examples name codes of the
product's problem table with the status the table gives them; and parameters whose format is
not obvious (OINs, RFC 3339 times, cursors, UUIDs, patterns) carry a valid example.
"""

from __future__ import annotations

import base64
import copy
from datetime import UTC, datetime
from http import HTTPStatus

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from gateway.clock import local_date
from gateway.errors import HTTP_CODES, PROBLEM_TYPE_PREFIX, TABLE, entry_of
from tests.unit.gateway.test_problem_table import _subclasses, class_codes, raised_codes

METHODS = ("get", "put", "post", "patch", "delete")
DOCUMENT_URI = "urn:thuiszitterspact:openapi"
PROBLEM = "application/problem+json"


@pytest.fixture
def document(client) -> dict:
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    return answer.get_json()


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", path, method, operation


def pointer(*parts: str) -> str:
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def resolve(document: dict, node: dict) -> dict:
    """``node``, or the component its ``$ref`` names."""
    while "$ref" in node:
        target = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def examples_of(document: dict, media: dict) -> dict[str, object]:
    """The example values of a media type or parameter, by name."""
    found = {name: resolve(document, ex)["value"] for name, ex in media.get("examples", {}).items()}
    if "example" in media:
        found["example"] = media["example"]
    return found


def bodies(document: dict):
    """Every request and answer body: (where, schema pointer, media type object)."""
    for name, path, method, operation in operations(document):
        base = ("paths", path, method)
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
            yield (f"{name} request {media_type}",
                   pointer(*base, "requestBody", "content", media_type, "schema"), media)
        for status, answer in operation.get("responses", {}).items():
            for media_type, media in resolve(document, answer).get("content", {}).items():
                yield (f"{name} {status} {media_type}",
                       pointer(*base, "responses", status, "content", media_type, "schema"), media)


def validator(document: dict, schema_pointer: str) -> Draft202012Validator:
    """A JSON Schema 2020-12 validator for the schema at ``schema_pointer`` in ``document``,
    whose ``#/components/...`` references resolve inside the document."""
    registry = Registry().with_resource(
        DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    return Draft202012Validator(
        {"$ref": DOCUMENT_URI + "#" + schema_pointer},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def schema_errors(document: dict, schema_pointer: str, value: object) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
            for e in validator(document, schema_pointer).iter_errors(value)]


def test_every_operation_has_an_example_for_each_body(document):
    all_operations = list(operations(document))
    assert len(all_operations) >= 31
    missing = [where for where, _, media in bodies(document) if not examples_of(document, media)]
    assert missing == []


def test_every_example_validates_against_its_own_schema(document):
    checked, invalid = 0, []
    for where, schema_pointer, media in bodies(document):
        for name, value in examples_of(document, media).items():
            checked += 1
            invalid += [f"{where} [{name}] {e}" for e in schema_errors(document, schema_pointer,
                                                                       value)]
    assert checked >= 100
    assert invalid == []


def test_an_example_that_drifts_from_its_schema_fails_the_check(document):
    """The check above is not vacuous: a send example with a bad recipient OIN, a missing
    payload field, an unknown member, a malformed time or a wrong enum value fails it."""
    schema = pointer("paths", "/api/v1/exchanges", "post", "requestBody", "content",
                     "application/json", "schema")
    good = examples_of(document, document["paths"]["/api/v1/exchanges"]["post"]["requestBody"][
        "content"]["application/json"])["SendAbsenceReport"]
    assert schema_errors(document, schema, good) == []
    drifts = [
        lambda body: body.update(recipient="1234"),
        lambda body: body["payload"].pop("school_brin"),
        lambda body: body["payload"].update(diagnosis="asthma"),
        lambda body: body["subject"].update(pseudonym="also-a-pseudonym"),
        lambda body: body.update(message_type="school_report"),
    ]
    for drift in drifts:
        body = copy.deepcopy(good)
        drift(body)
        assert schema_errors(document, schema, body), body
    answer = pointer("paths", "/api/v1/exchanges/{id}", "get", "responses", "200", "content",
                     "application/json", "schema")
    status = examples_of(document, document["paths"]["/api/v1/exchanges/{id}"]["get"][
        "responses"]["200"]["content"]["application/json"])["ExchangeStatus"]
    assert schema_errors(document, answer, {**status, "created_at": "1 December 2026"})


def _known_codes() -> dict[str, set[int]]:
    """Every code the product answers, with the statuses its exception classes give it
    (empty for codes given where they are raised)."""
    statuses: dict[str, set[int]] = {}
    class_codes()  # imports every module, so that every exception class is known
    for cls in TABLE:
        for sub in _subclasses(cls):
            entry = entry_of(sub)
            code = entry.code or getattr(sub, "code", None)
            status = entry.status or getattr(sub, "status", None)
            if isinstance(code, str) and isinstance(status, int) and not sub.__module__.startswith(
                    "tests"):
                statuses.setdefault(code, set()).add(status)
    from gateway.exchange.errors import ConsentRefused
    from gateway.exchange.pipeline import CONSENT_REFUSALS

    for code in CONSENT_REFUSALS:  # the refusals of step 11, raised with a code by name
        statuses.setdefault(code, set()).add(ConsentRefused.status)
    known = class_codes() | raised_codes() | set(HTTP_CODES.values()) | {"internal_error"}
    return {code: statuses.get(code, set()) for code in known | set(CONSENT_REFUSALS)}


def test_problem_examples_name_codes_of_the_problem_table_with_their_status(document):
    from gateway.docs.examples import codes_named

    known = _known_codes()
    seen, wrong = set(), []
    for name, path, method, operation in operations(document):
        for status, answer in operation.get("responses", {}).items():
            media = answer.get("content", {}).get(PROBLEM)
            if media is None:
                continue
            named = codes_named(answer["description"])
            for example_name, value in examples_of(document, media).items():
                code = value["code"]
                seen.add(code)
                where = f"{name} {status} [{example_name}]"
                if code not in known:
                    wrong.append(f"{where}: {code} is not a code of the problem table")
                if known.get(code) and int(status) not in known[code]:
                    wrong.append(f"{where}: the table answers {code} with {known[code]}")
                if value["status"] != int(status) or value["type"] != PROBLEM_TYPE_PREFIX + code:
                    wrong.append(f"{where}: status or type does not match {status} {code}")
                if value["title"] != HTTPStatus(int(status)).phrase:
                    wrong.append(f"{where}: title is not the gateway's for {status}")
                if code not in named:
                    wrong.append(f"{where}: {code} is not among the codes described, {named}")
                if int(status) == 422 and not value.get("errors"):
                    wrong.append(f"{where}: a 422 carries errors (API.md section 1)")
    assert wrong == []
    assert {"invalid_token", "insufficient_scope", "validation_failed", "consent_missing",
            "route_not_allowed", "too_many_requests", "not_pending"} <= seen


def test_every_problem_answer_has_one_example_per_code_it_names(document):
    from gateway.docs.examples import codes_named

    short = []
    for name, path, method, operation in operations(document):
        for status, answer in operation.get("responses", {}).items():
            media = answer.get("content", {}).get(PROBLEM)
            if media is None:
                continue
            codes = {value["code"] for value in examples_of(document, media).values()}
            if set(codes_named(answer["description"])) - codes:
                short.append(f"{name} {status}: {answer['description']} shows only {codes}")
    assert short == []


def _needs_example(parameter: dict) -> bool:
    schema = parameter.get("schema", {})
    return bool(schema.get("format") or schema.get("pattern") or parameter["name"] in (
        "cursor", "id", "seq", "school_year", "tree_size", "from_size", "to_size"))


def test_parameters_whose_format_is_not_obvious_carry_a_valid_example(document):
    checked, wrong = 0, []
    for name, path, method, operation in operations(document):
        for index, parameter in enumerate(operation.get("parameters", [])):
            parameter = resolve(document, parameter)
            values = examples_of(document, parameter)
            where = f"{name} {parameter['in']} {parameter['name']}"
            if _needs_example(parameter) and not values:
                wrong.append(f"{where}: no example")
            schema = pointer("paths", path, method, "parameters", index, "schema")
            for value in values.values():
                checked += 1
                wrong += [f"{where}: {e}" for e in schema_errors(document, schema, value)]
    assert checked >= 25
    assert wrong == []


def _cursor_list(cursor: str) -> str:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()[:1]


def test_example_cursors_are_cursors_the_lists_issue(document):
    """A cursor in an example decodes with the cursors of its own list (gateway.paging)."""
    from gateway.audit.params import CURSORS as AUDIT
    from gateway.consents.api import CURSORS as CONSENTS
    from gateway.exchange.service import CURSORS as INBOX

    lists = {"/api/v1/inbox": INBOX, "/api/v1/audit/events": AUDIT,
             "/api/v1/audit/subject-report": AUDIT, "/api/v1/consents/search": CONSENTS}
    decoded = 0
    for path, cursors in lists.items():
        for method, operation in document["paths"][path].items():
            if method not in METHODS:
                continue
            values = [v for p in operation.get("parameters", []) if p["name"] == "cursor"
                      for v in examples_of(document, p).values()]
            media = operation.get("requestBody", {}).get("content", {}).get("application/json")
            values += [v["cursor"] for v in examples_of(document, media or {}).values()
                       if isinstance(v, dict) and v.get("cursor")]
            answer = operation["responses"]["200"]["content"]["application/json"]
            values += [v["next_cursor"] for v in examples_of(document, answer).values()
                       if v["next_cursor"] is not None]
            for value in values:
                assert cursors.decode(value) > 0, (path, value)
                decoded += 1
    assert decoded >= 4


def _loaders() -> dict:
    """The gateway's own loaders of request bodies, by the component the body refers to."""
    from schemas.audit import load_subject_report_request
    from schemas.consent import (
        load_consent_request,
        load_consent_search,
        load_consent_withdrawal,
    )
    from schemas.exchange import load_exchange_envelope
    from schemas.messages import load_payload
    from schemas.reidentification import (
        load_reidentification_approval,
        load_reidentification_refusal,
        load_reidentification_request,
    )
    from schemas.retraction import load_retraction
    from schemas.signal import load_signal_request

    today = local_date(datetime.now(UTC))

    def exchange(body: dict) -> None:
        load_exchange_envelope(body)
        load_payload(body["message_type"], body["payload"], today)

    return {
        "ExchangeRequest": exchange,
        "ConsentRequest": lambda body: load_consent_request(body, today),
        "ConsentWithdraw": load_consent_withdrawal,
        "ConsentSearch": load_consent_search,
        "SignalRequest": load_signal_request,
        "ReidentificationRequest": load_reidentification_request,
        "ReidentificationApprove": load_reidentification_approval,
        "ReidentificationRefuse": load_reidentification_refusal,
        "SubjectReportRequest": load_subject_report_request,
        "RetractionRequest": load_retraction,
    }


def test_request_examples_pass_the_gateways_own_validation(document):
    """The JSON Schema cannot say everything (the elfproef, dates not in the future, the age
    of the child): the gateway's marshmallow loaders accept every JSON request example."""
    loaders = _loaders()
    loaded, refused = 0, []
    for name, path, method, operation in operations(document):
        media = operation.get("requestBody", {}).get("content", {}).get("application/json")
        ref = (media or {}).get("schema", {}).get("$ref", "")
        if not ref:
            continue
        component = ref.rsplit("/", 1)[-1]
        assert component in loaders, f"{name}: no loader for {component}"
        for example_name, value in examples_of(document, media).items():
            try:
                loaders[component](copy.deepcopy(value))
                loaded += 1
            except Exception as exc:  # noqa: BLE001 - the report names what refused it
                refused.append(f"{name} [{example_name}]: {exc!r}")
    assert refused == []
    assert loaded >= 15


def test_example_bsns_pass_the_elfproef_and_oins_are_demo_organisations(document):
    import json
    import re

    import yaml

    from pseudonymise.bsn import is_valid_bsn
    from tests.e2e.conftest import REPO

    demo = yaml.safe_load((REPO / "deploy" / "demo-bootstrap.yaml").read_text())
    oins = {organisation["oin"] for organisation in demo["organisations"]}
    text = json.dumps(document["components"]["examples"])
    bsns = set(re.findall(r'"bsn": "([0-9]{9})"', text))
    assert bsns and all(is_valid_bsn(bsn) for bsn in bsns), bsns
    named = set(re.findall(r'"(?:oin|recipient|sender|org)": "([0-9]{20})"', text))
    named |= {party for party in re.findall(r'"([0-9]{20})"', text)}
    assert named and named <= oins, named - oins


def test_the_request_examples_of_the_first_sends_are_accepted_by_the_gateway(
    database_url, keys_dir
):
    """Realistic, not only valid: on an app with the demo organisations, the consent examples
    are recorded, and the send examples that start a conversation (not the replies, whose
    in_reply_to and pseudonym name exchanges of the sandbox) are accepted on their routes,
    the consent ones under the recorded consents."""
    from gateway.docs.examples import LEERPLICHT, SCHOOL
    from tests.functional_partners import AppPartners

    partners = AppPartners(database_url, keys_dir)
    document = partners.client.get("/api/v1/openapi.json").get_json()
    named = document["components"]["examples"]

    def value(name: str) -> dict:
        return copy.deepcopy(named[name]["value"])

    for name in ("RecordConsentSupport", "RecordConsentMazl"):
        answer = partners.post(SCHOOL, "/api/v1/consents", value(name))
        assert answer.status_code == 201, (name, answer.json)
        assert answer.json["status"] == "active", (name, answer.json)
    senders = {"SendAbsenceReport": SCHOOL, "SendSicknessAbsenceReferral": SCHOOL,
               "SendSupportRequest": SCHOOL, "SendHomeboundReport": LEERPLICHT}
    for name, sender in senders.items():
        body = value(name)
        answer = partners.send(sender, body["message_type"], body["recipient"], body["payload"],
                               subject=body["subject"])
        assert answer.status_code == 202, (name, answer.json)
