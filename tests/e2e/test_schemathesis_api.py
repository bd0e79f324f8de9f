"""Schemathesis over the served OpenAPI document, on a real server, with real tokens (CI size).

One run of the schemathesis CLI (``fuzz/api_schemathesis.py``, the same code ``make fuzz`` runs
with 700 examples) against a gateway started with ``start_server``: the partners are registered
with real keys through ``gateway bootstrap`` (``register_partners``), real consents, signals,
exchanges and re-identification requests exist, and every ``/api/v1`` call carries a real
Bearer token obtained with a signed client assertion (``fuzz/api_hooks.py``). Every operation
that the document lists is tested, in all four phases (examples, coverage, fuzzing, stateful
with links), with positive and negative data.

What the tests below prove, for every request schemathesis sent:
- no 5xx (``not_a_server_error``);
- every status code is documented for its operation (``status_code_conformance``);
- every answer has a documented content type, headers and body schema
  (``content_type_conformance``, ``response_headers_conformance``,
  ``response_schema_conformance``).

A failure that is a reported bug in another area is listed in ``KNOWN_BUGS`` with a precise
signature (operation or schema location and message) and marks only that check xfail, with the
bug's description; any other failure fails the check. When the bug is fixed, the check passes.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import stop_server

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "fuzz"))

import api_schemathesis  # noqa: E402

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = int(os.environ.get("GATEWAY_SCHEMATHESIS_MAX_EXAMPLES", "5"))
SEED = int(os.environ.get("GATEWAY_SCHEMATHESIS_SEED", "20261122"))
METHODS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class KnownBug:
    bug_id: str
    description: str
    check: str
    operation: str | None = None
    message_contains: tuple[str, ...] = ()
    statuses: tuple[int, ...] = ()

    def matches(self, failure: api_schemathesis.Failure) -> bool:
        return (
            failure.check == self.check
            and (self.operation is None or failure.operation == self.operation)
            and all(text in failure.message for text in self.message_contains)
            and (not self.statuses or failure.status in self.statuses)
        )


KNOWN_BUGS = (
    KnownBug(
        "problem-instance-not-a-uri",
        "gateway/errors.py problem(): 'instance' is request.path, the percent-DECODED path, so "
        "a path parameter with control characters, spaces, quotes or non-ASCII characters "
        "(e.g. GET /api/v1/consents/%0E%C3%B5) answers a problem whose 'instance' is not a "
        "URI reference, against the Problem schema (format: uri-reference) and RFC 9457; "
        "percent-encode it (e.g. urllib.parse.quote(request.path))",
        check="response_schema_conformance",
        message_contains=('is not a "uri-reference"', "/properties/instance"),
    ),
    KnownBug(
        "audit-purpose-enum",
        "audit: GET /api/v1/audit/events answers events with purpose 'case_consultation' "
        "(a consent purpose, API.md section 5) but the AuditEvent schema's purpose enum lacks "
        "it; reproduce: record a consent with purpose case_consultation, then list audit "
        "events",
        check="response_schema_conformance",
        message_contains=('"case_consultation" is not one of', "AuditEvent/properties/purpose"),
    ),
    KnownBug(
        "ack-undocumented-400",
        "exchanges: POST /api/v1/inbox/{id}/ack parses its optional JSON body strictly and "
        "answers 400 invalid_json (e.g. for the body '[null, null]') and 413/415 like every "
        "POST, but the OpenAPI document lists only 200, 401, 403 and 404 for it",
        check="status_code_conformance",
        operation="POST /api/v1/inbox/{id}/ack",
        statuses=(400, 413, 415),
    ),
)


@pytest.fixture(scope="module")
def fuzz_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("schemathesis")
    server, context = api_schemathesis.prepare(workdir)
    try:
        document = requests.get(f"{server.url}/api/v1/openapi.json", timeout=30).json()
        result = api_schemathesis.run(
            server.url, context, workdir / "report", max_examples=MAX_EXAMPLES, seed=SEED,
            # one worker: with two, hypothesis parses lambda sources with ``ast`` from both
            # threads at once, and CPython 3.11.7's ast module is not thread-safe there
            # ("AST constructor recursion depth mismatch", a Runtime Error in about 1 of 4
            # runs, seen in the coverage phase of GET /api/v1/audit/consistency)
            workers=1, timeout=600,
        )
    finally:
        stop_server(server.process)
    result.document = document
    result.server_log = (workdir / "instance" / "server.log").read_text(errors="replace")
    print(api_schemathesis.summary(result))
    return result


# schemathesis loads the document from this operation and leaves it out of the run
SCHEMA_OPERATION = "GET /api/v1/openapi.json"


def documented_operations(document: dict) -> dict[str, dict]:
    return {
        f"{method.upper()} {path}": operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS and f"{method.upper()} {path}" != SCHEMA_OPERATION
    }


def test_every_documented_operation_was_tested_in_every_phase(fuzz_run):
    operations = documented_operations(fuzz_run.document)
    assert fuzz_run.operations_total == len(operations), fuzz_run.output[-3000:]
    assert fuzz_run.operations_tested == len(operations), fuzz_run.output[-3000:]
    answered = set(fuzz_run.statuses)
    assert not set(operations) - answered, sorted(set(operations) - answered)
    assert set(fuzz_run.phases) == {"examples", "coverage", "fuzzing", "stateful"}
    assert all(status != "skipped" for status in fuzz_run.phases.values()), fuzz_run.phases
    assert fuzz_run.cases >= 300, f"only {fuzz_run.cases} cases"
    errors_at = fuzz_run.output.find("ERRORS")
    assert not fuzz_run.errors, (fuzz_run.errors, fuzz_run.output[errors_at:errors_at + 4000])
    assert fuzz_run.exit_code in (0, 1), fuzz_run.output[-5000:]


def test_real_tokens_take_every_protected_operation_past_authentication(fuzz_run):
    """The auth hook works: each protected operation got answers other than 401."""
    stuck = []
    for name, operation in documented_operations(fuzz_run.document).items():
        if not operation.get("security", fuzz_run.document.get("security")):
            continue
        statuses = fuzz_run.statuses.get(name, {})
        if not any(status != 401 for status in statuses):
            stuck.append(f"{name}: {dict(statuses)}")
    assert not stuck, stuck
    successes = [name for name in documented_operations(fuzz_run.document)
                 if any(200 <= (status or 0) < 300 for status in fuzz_run.statuses.get(name, {}))]
    assert len(successes) >= len(documented_operations(fuzz_run.document)) * 0.75, successes


@pytest.mark.parametrize("check", api_schemathesis.GATE_CHECKS)
def test_check_holds_for_every_response(fuzz_run, check):
    failures = [failure for failure in fuzz_run.failures if failure.check == check]
    unknown = [f for f in failures if not any(bug.matches(f) for bug in KNOWN_BUGS)]
    assert not unknown, f"{check} failed:\n" + "\n".join(f.describe() for f in unknown)
    known = {bug.bug_id: bug for bug in KNOWN_BUGS for f in failures if bug.matches(f)}
    if known:
        pytest.xfail("; ".join(f"[{bug_id}] {bug.description}" for bug_id, bug in known.items()))


def test_no_request_made_the_server_log_an_error(fuzz_run):
    errors = [line for line in fuzz_run.server_log.splitlines() if '"level": "error"' in line
              or "Traceback" in line]
    assert not errors, "\n".join(errors[:20])
