"""Examples of the OpenAPI document: the shared values, the problem answers, and the helpers
that put examples on a media type.

Swagger UI shows an operation's examples as its request and answer bodies, so a partner sees
a working call before reading a schema. Each example is a component under
``components/examples`` that operations refer to, so one JSON value is written once however
many operations answer it. The values are the sandbox's: the demo organisations of
``deploy/demo-bootstrap.yaml``, BSNs that pass the elfproef and are no one's (``111222333``
is the demo child), the routes of ``gateway/policies/routes.yaml``, and ids, cursors and
hashes in the form the gateway makes them. ``tests/functional/test_openapi_examples.py``
validates every example against its schema, so an example cannot drift from the contract.
"""

from __future__ import annotations

import re
from http import HTTPStatus

from ..errors import PROBLEM_TYPE_PREFIX

EXAMPLES = "#/components/examples/"

SCHOOL = "00000001001234567000"
SWV = "00000001002345678000"
GGD = "00000001003456789000"
WIJ = "00000001004567890000"
LEERPLICHT = "00000001005678901000"
OPERATOR = "00000001006789012000"
"""The OINs of the demo organisations (deploy/demo-bootstrap.yaml)."""

ORGANISATIONS = {
    SCHOOL: ("OBS De Regenboog", "school"),
    SWV: ("Samenwerkingsverband Passend Onderwijs Groningen Stad", "swv"),
    GGD: ("GGD Groningen Jeugdgezondheidszorg", "ggd"),
    WIJ: ("WIJ Groningen", "wij"),
    LEERPLICHT: ("Gemeente Groningen Leerplicht", "leerplicht"),
    OPERATOR: ("Thuiszitterspact Gateway Beheer", "operator"),
}

DEMO_BSN = "111222333"
"""The demo child: a test number that passes the elfproef (README, deploy/demo-bootstrap)."""
OTHER_BSN = "123456782"
"""A second child, also a test number passing the elfproef (API.md section 3)."""

SWV_PSEUDONYM = "AbMDFvwfNsunkqW5T5OoNgRGg8566mHuJ3Q"
"""The demo child's pseudonym as the samenwerkingsverband receives it."""
SCHOOL_PSEUDONYM = "Aa9NQytFDu8R3OOzcerd0Oj24S9SpyhdnpE"
"""The demo child's pseudonym as the school receives it."""
WIJ_PSEUDONYM = "AQuZt7UbyAcIq0usWznZM2VG-JbEeiB2oCM"
GGD_PSEUDONYM = "AcE5kMZ2h0wQfR7nT3y8LpVd1sXoGbJq6uW"

EXCHANGE_ID = "ff787265-ae98-4630-be88-c694642bd50e"
REPLIED_EXCHANGE_ID = "5b0d7c41-2f6e-4f8a-9d3b-8e1a6c2f4d90"
CONSENT_ID = "074d3cfe-0bc2-407d-8106-553f2d0ef17d"
SIGNAL_ID = "0de2154e-8983-40c4-a41f-83ec5113a52b"
REIDENTIFICATION_ID = "4f1e9a2c-7b3d-4c58-a0e6-2d9b8f17c3a5"
FSC_TRANSACTION_ID = "01a24dc7-627d-7242-8524-6dfb77a36d96"
"""A Fsc-Transaction-Id as the gateway makes one (UUIDv7)."""

CONTACT = {"name": "Mentor J. de Vries", "email": "mentor@regenboog.example.nl"}
GGD_CONTACT = {
    "name": "Jeugdarts S. Postma",
    "email": "jgz@ggd-groningen.example.nl",
    "phone": "050 367 4000",
}
WIJ_CONTACT = {"name": "WIJ-medewerker R. Kok", "email": "wij-centrum@groningen.example.nl"}


def ref(name: str) -> dict:
    """A reference to the example component ``name``."""
    return {"$ref": EXAMPLES + name}


def examples(*names: str) -> dict:
    """The ``examples`` member of a media type: each named component, by reference."""
    return {name: ref(name) for name in names}


def example(summary: str, value: object, description: str = "") -> dict:
    """An example component: what it shows (``summary``, Swagger UI's drop-down) and its value."""
    component: dict = {"summary": summary, "value": value}
    if description:
        component["description"] = description
    return component


def organisation(oin: str) -> dict:
    """A demo organisation as an inbox item names its sender."""
    name, kind = ORGANISATIONS[oin]
    return {"oin": oin, "name": name, "type": kind}


def problem_value(
    status: int, code: str, detail: str, instance: str, errors: dict | None = None
) -> dict:
    """The problem the gateway answers (gateway.errors.problem), member by member."""
    value: dict = {
        "type": PROBLEM_TYPE_PREFIX + code,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": instance,
    }
    if errors:
        value["errors"] = errors
    return value


def problem_example(
    status: int, code: str, detail: str, instance: str, errors: dict | None = None
) -> dict:
    return example(
        f"{status} {code}",
        problem_value(status, code, detail, instance, errors),
        "`instance` is the path of the refused request.",
    )


def problem_example_name(code: str) -> str:
    """The component name of a code's shared problem example: ``Problem.invalid_token``."""
    return f"Problem.{code}"


PROBLEMS = {
    "invalid_json": (400, "duplicate key in object", "/api/v1/exchanges"),
    "invalid_parameter": (
        400,
        "Fsc-Transaction-Id must be a UUID",
        "/api/v1/exchanges",
        {"Fsc-Transaction-Id": ["must be a UUID"]},
    ),
    "idempotency_key_missing": (400, "Send an Idempotency-Key header.", "/api/v1/exchanges"),
    "idempotency_key_invalid": (
        400,
        "The Idempotency-Key must be 1 to 128 visible ASCII characters.",
        "/api/v1/exchanges",
    ),
    "missing_token": (
        401,
        "This endpoint needs an access token: Authorization: Bearer <token>.",
        "/api/v1/inbox",
    ),
    "invalid_token": (
        401,
        "The access token is invalid, expired or revoked; get a new one.",
        "/api/v1/inbox",
    ),
    "insufficient_scope": (
        403,
        "The access token lacks the scope this operation needs (exchange:send).",
        "/api/v1/exchanges",
    ),
    "recipient_suspended": (403, "The recipient organisation is suspended.", "/api/v1/exchanges"),
    "route_not_allowed": (
        403,
        "A school may not send homebound_report to a swv.",
        "/api/v1/exchanges",
    ),
    "consent_missing": (403, "No valid consent covers this exchange.", "/api/v1/exchanges"),
    "consent_withdrawn": (
        403,
        "The consent for this exchange was withdrawn.",
        "/api/v1/exchanges",
    ),
    "consent_expired": (403, "The consent for this exchange has expired.", "/api/v1/exchanges"),
    "consent_withdraw_not_allowed": (
        403,
        "Only the recorder, a party named by OIN or the operator may withdraw it.",
        f"/api/v1/consents/{CONSENT_ID}/withdraw",
    ),
    "signal_not_allowed": (403, "Organisations of your type may not signal.", "/api/v1/signals"),
    "not_operator": (
        403,
        "Only the operator organisation approves or refuses re-identifications.",
        f"/api/v1/reidentifications/{REIDENTIFICATION_ID}/approve",
    ),
    "own_request": (
        403,
        "An organisation cannot approve or refuse its own request.",
        f"/api/v1/reidentifications/{REIDENTIFICATION_ID}/approve",
    ),
    "not_found": (404, "No exchange with this id.", f"/api/v1/exchanges/{EXCHANGE_ID}"),
    "unknown_recipient": (404, "No organisation has this OIN.", "/api/v1/exchanges"),
    "polymorphic_unavailable": (
        404,
        "Polymorphic pseudonymisation has not been set up on this gateway (no keys issued yet).",
        "/api/v1/pep/public-key",
    ),
    "key_share_not_issued": (
        404,
        "No key share was issued for this client: the organisation must be enabled for "
        "polymorphic mode and the key issuer must have run since (gateway keys pep-issue).",
        "/api/v1/pep/key-share",
    ),
    "idempotency_key_reused": (
        409,
        "This Idempotency-Key was used with another body.",
        "/api/v1/exchanges",
    ),
    "transaction_id_reused": (
        409,
        "This Fsc-Transaction-Id was already passed on to another recipient organisation; use "
        "a new transaction id for each recipient.",
        "/api/v1/exchanges",
        {"Fsc-Transaction-Id": ["already used for another recipient"]},
    ),
    "not_pending": (
        409,
        "The request is approved; only a pending request can be decided.",
        f"/api/v1/reidentifications/{REIDENTIFICATION_ID}/approve",
    ),
    "audit_chain_invalid": (
        409,
        "audit entry 1342: hash does not match the entry",
        "/api/v1/audit/proof/1342",
    ),
    "audit_log_rewound": (
        503,
        "The audit log (2048 entries) is shorter than the checkpoint the gateway published "
        "(2148 entries, root 2b1f6a4c9d0e8b7a35c4f2e1d6a9b8c7e0f3a5d4c2b1e9f8a7d6c5b4a3e2f1d0); "
        "the operator must acknowledge the gap (gateway audit acknowledge-gap) before proofs are "
        "given again.",
        "/api/v1/audit/proof/1342",
    ),
    "payload_too_large": (413, "The body is larger than 256 KiB.", "/api/v1/exchanges"),
    "unsupported_media_type": (415, "Send the body as application/json.", "/api/v1/exchanges"),
    "validation_failed": (
        422,
        "The request body is not valid.",
        "/api/v1/exchanges",
        {
            "subject.bsn": ["is not a valid BSN"],
            "payload.contact.email": ["Not a valid email address."],
        },
    ),
    "consent_grantor_invalid": (
        422,
        "The child is 15 on valid_from: a parent or guardian and the youth must both consent.",
        "/api/v1/consents",
        {
            "granted_by": [
                "The child is 15 on valid_from: a parent or guardian and the youth must both "
                "consent."
            ]
        },
    ),
    "unknown_pseudonym": (
        422,
        "The pseudonym was not issued to your organisation.",
        "/api/v1/exchanges",
        {"subject.pseudonym": ["Unknown pseudonym for your organisation."]},
    ),
    "unknown_reference": (
        422,
        "in_reply_to must name an exchange you received about the same child.",
        "/api/v1/exchanges",
        {"payload.in_reply_to": ["Unknown exchange for this child."]},
    ),
    "too_many_requests": (429, "100 per 1 second", "/api/v1/exchanges"),
}
"""One realistic answer per problem code the document names: status, the gateway's detail
text, a request path, and ``errors`` where the gateway gives them."""

PROBLEM_EXAMPLES = {
    problem_example_name(code): problem_example(status, code, *rest)
    for code, (status, *rest) in PROBLEMS.items()
}

_CODE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")


def codes_named(description: str) -> list[str]:
    """The problem codes a problem answer's description names before its first colon,
    outside parentheses: ``"insufficient_scope or signal_not_allowed"`` names two."""
    named = re.sub(r"\([^)]*\)", "", description).split(":")[0]
    return list(dict.fromkeys(_CODE.findall(named)))


def document_problem_examples(document: dict) -> None:
    """Give every problem answer that has no examples of its own one example per code its
    description names, from :data:`PROBLEM_EXAMPLES`, and add the shared examples that
    answers refer to (these, or the ones an area names itself) to the components."""
    components = document.setdefault("components", {}).setdefault("examples", {})
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            for status, answer in operation.get("responses", {}).items():
                media = answer.get("content", {}).get("application/problem+json")
                if media is None:
                    continue
                if "examples" not in media:
                    media["examples"] = _named_problems(
                        f"{method.upper()} {path} {status}", answer.get("description", "")
                    )
                for reference in media["examples"].values():
                    name = reference.get("$ref", "").removeprefix(EXAMPLES)
                    if name in PROBLEM_EXAMPLES:
                        components.setdefault(name, PROBLEM_EXAMPLES[name])


def _named_problems(where: str, description: str) -> dict:
    codes = codes_named(description)
    missing = [code for code in codes if code not in PROBLEMS]
    if missing or not codes:
        raise LookupError(
            f"{where}: no problem example for {missing or 'a description naming no code'} "
            "(gateway/docs/examples.py)"
        )
    return examples(*map(problem_example_name, codes))
