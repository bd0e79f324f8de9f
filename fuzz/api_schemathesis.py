"""Schemathesis against the gateway's own OpenAPI document, on a real server, with real tokens.

``python fuzz/api_schemathesis.py --max-examples 700`` (what ``make fuzz`` runs) does, with no
mocks anywhere:

1. starts ``gateway run`` (gunicorn, two workers, SQLite) on a free port of 127.0.0.1 with fresh
   development keys, exactly as the e2e tests do (``tests/e2e/conftest.py: start_server``);
2. registers the partner organisations with real keys through ``gateway bootstrap``
   (``tests/e2e/partners.py: register_partners``) and creates a few real resources as they
   would: consents, a signal that matches another organisation's, exchanges into the school's
   inbox (so that list, read and ack answers carry real data for the schema checks);
3. runs the schemathesis CLI over ``/api/v1/openapi.json``, every operation the document lists,
   all four phases (examples, coverage, fuzzing, stateful), positive and negative data, as the
   school's client (a real Bearer token with all of its scopes; ``fuzz/api_hooks.py``), and as
   the operator's client for the two operations only the operator may call;
4. prints a summary (cases, answers per operation and status, failures) and exits with
   schemathesis' exit code (0: no check failed).

Checks (the issue's gate): ``not_a_server_error`` (no 5xx), ``status_code_conformance``
(only documented status codes), ``content_type_conformance``, ``response_headers_conformance``,
``response_schema_conformance`` (every answer matches its documented schema).

The rate limits are raised for this server (``GATEWAY_RATE_LIMIT_*``): the fuzzer sends far more
than the shipped 3000 requests a minute per client, and a 429 would hide the code behind it.
"""

from __future__ import annotations

import argparse
import base64
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
FUZZ = REPO / "fuzz"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

GATE_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
HIGH_RATE_LIMITS = {
    "GATEWAY_RATE_LIMIT_CLIENT": "100000/second",
    "GATEWAY_RATE_LIMIT_ORGANISATION": "100000/second",
    "GATEWAY_RATE_LIMIT_SIGNALS": "100000/second",
    "GATEWAY_RATE_LIMIT_ADDRESS": "100000/second",
}


@dataclass
class Failure:
    """One failed check on one request, as schemathesis recorded it."""

    operation: str
    check: str
    code: str
    title: str
    message: str
    method: str
    uri: str
    request_body: str
    status: int | None
    response_body: str

    def describe(self) -> str:
        return (
            f"{self.operation}: {self.check} ({self.code} {self.title}): "
            f"{self.message.strip()[:300]}\n    request: {self.method} {self.uri} "
            f"body={self.request_body[:300]!r}\n    response: {self.status} "
            f"{self.response_body[:300]}"
        )


@dataclass
class RunResult:
    exit_code: int
    output: str
    report_dir: Path
    cases: int = 0
    operations_total: int = 0
    operations_tested: int = 0
    phases: dict = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    statuses: dict[str, collections.Counter] = field(default_factory=dict)
    errors: list = field(default_factory=list)
    warnings: dict = field(default_factory=dict)


def _today() -> date:
    return datetime.now(ZoneInfo("Europe/Amsterdam")).date()


def prepare(workdir: Path) -> tuple[object, Path]:
    """Start a server, register the partners, make real resources; return (server, context)."""
    from gateway.keys import KeyStore
    from tests import exchange_helpers as ex
    from tests.e2e.conftest import start_server
    from tests.e2e.partners import register_partners

    keys = workdir / "keys"
    KeyStore(keys, allow_generate=True)
    instance = workdir / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    server = start_server(instance, keys, dict(HIGH_RATE_LIMITS))
    try:
        partners = register_partners(server, workdir)
        context = workdir / "fuzz-context.json"
        resources = seed_resources(partners, _today())
        clients = {
            name: {"client_id": partners[oin].client_id,
                   "private_jwk": partners[oin].key.as_dict(private=True)}
            for name, oin in (("partner", ex.SCHOOL), ("operator", ex.OPERATOR))
        }
        context.write_text(json.dumps({
            "base_url": server.url, "clients": clients, "resources": resources,
        }))
    except BaseException:
        from tests.e2e.conftest import stop_server

        stop_server(server.process)
        raise
    return server, context


def _post(partner, path: str, body: dict, **headers) -> dict:
    import requests

    response = requests.post(f"{partner.base_url}{path}", json=body,
                             headers=partner.headers(**headers), timeout=30)
    assert response.status_code in (200, 201, 202), (path, response.status_code, response.text)
    return response.json()


def seed_resources(partners: dict, today: date) -> dict:
    """Real data for the school's client: what a partner would have after a few days of use."""
    from tests import exchange_helpers as ex

    school, ggd, wij = partners[ex.SCHOOL], partners[ex.GGD], partners[ex.WIJ]
    leerplicht = partners[ex.LEERPLICHT]

    def consent(purpose: str, parties: list[str]) -> dict:
        return {
            "subject": {"bsn": ex.BSN}, "date_of_birth": ex.born(today, 9), "purpose": purpose,
            "parties": parties, "granted_by": [{"role": "parent"}],
            "valid_from": (today - timedelta(days=1)).isoformat(),
            "valid_until": (today + timedelta(days=180)).isoformat(),
            "evidence": {"method": "digital", "reference": "portaal-8812"},
        }

    def exchange(message_type: str, recipient: str, payload: dict) -> dict:
        return {"message_type": message_type, "recipient": recipient,
                "subject": {"bsn": ex.BSN}, "payload": payload}

    def signal(partner) -> dict:
        return {"subject": {"bsn": ex.BSN}, "category": "wellbeing",
                "contact": {"name": f"Contact {partner.type}", "email": "contact@example.nl"}}

    # the GGD and WIJ are named by OIN: below they send unprompted, which a party named only
    # by its type may not (API.md s13 rule 3: it may only reply under the consent)
    consents = [_post(school, "/api/v1/consents", consent("mazl", [ex.SCHOOL, ex.GGD])),
                _post(school, "/api/v1/consents", consent("support", ["school", ex.WIJ]))]
    withdrawable = _post(school, "/api/v1/consents", consent("support", ["school", "wij"]))
    sent = _post(school, "/api/v1/exchanges",
                 exchange("absence_report", ex.LEERPLICHT, ex.absence_report(today)),
                 **{"Idempotency-Key": uuid.uuid4().hex})
    school_signal = _post(school, "/api/v1/signals", signal(school))
    _post(leerplicht, "/api/v1/signals", signal(leerplicht))
    for _ in range(3):
        _post(ggd, "/api/v1/exchanges", exchange("jgz_advice", ex.SCHOOL, ex.jgz_advice(today)),
              **{"Idempotency-Key": uuid.uuid4().hex})
        _post(wij, "/api/v1/exchanges",
              exchange("support_feedback", ex.SCHOOL, ex.support_feedback(today)),
              **{"Idempotency-Key": uuid.uuid4().hex})
    received = _post(ggd, "/api/v1/exchanges",
                     exchange("jgz_advice", ex.SCHOOL, ex.jgz_advice(today)),
                     **{"Idempotency-Key": uuid.uuid4().hex})
    import requests

    inbox = requests.get(f"{school.base_url}/api/v1/inbox", headers=school.headers(),
                         params={"limit": 500}, timeout=30).json()["items"]
    pseudonym = next(item["subject"]["pseudonym"] for item in inbox
                     if "pseudonym" in item.get("subject", {}))
    reidentification = {"pseudonym": pseudonym, "reason": "zorgmelding",
                        "legal_basis": "Leerplichtwet 1969 art. 21a"}
    pending = [_post(school, "/api/v1/reidentifications", reidentification)["id"]
               for _ in range(3)]
    # the pact's cases (issue 20): the school convenes; the GGD and leerplicht accept, so the
    # agreements (regie leerplicht, agreement 1 the school's own) and their "done" succeed
    _post(school, "/api/v1/consents",
          consent("case_consultation", [ex.SCHOOL, "ggd", "leerplicht", "swv", "wij"]))
    case_body = consultation_body(today)

    def open_case() -> str:
        opened = _post(school, "/api/v1/cases", case_body,
                       **{"Idempotency-Key": uuid.uuid4().hex})
        for invitee in (ggd, leerplicht):
            items = requests.get(f"{invitee.base_url}/api/v1/inbox", headers=invitee.headers(),
                                 params={"limit": 500}, timeout=30).json()["items"]
            ref = next(item["payload"]["case_ref"] for item in reversed(items)
                       if item["message_type"] == "case_invitation")
            _post(invitee, f"/api/v1/cases/{ref}/accept", {})
        return opened["case_ref"]

    agreed, to_close = open_case(), open_case()
    agreements = agreements_body(today)
    _post(school, f"/api/v1/cases/{agreed}/agreements", agreements)
    return {
        "body_examples": [
            {"path": "/api/v1/consents", "method": "post",
             "body": consent("mazl", [ex.SCHOOL, "ggd"])},
            {"path": "/api/v1/exchanges", "method": "post",
             "body": exchange("absence_report", ex.LEERPLICHT, ex.absence_report(today))},
            {"path": "/api/v1/signals", "method": "post", "body": signal(school)},
            {"path": "/api/v1/consents/search", "method": "post",
             "body": {"subject": {"bsn": ex.BSN}, "limit": 10}},
            {"path": "/api/v1/consents/{id}/withdraw", "method": "post",
             "body": {"withdrawn_by": {"role": "parent"}, "reason": "ingetrokken"}},
            {"path": "/api/v1/reidentifications", "method": "post", "body": reidentification},
            {"path": "/api/v1/audit/subject-report", "method": "post",
             "body": {"subject": {"bsn": ex.BSN}, "limit": 10}},
            {"path": "/api/v1/cases", "method": "post", "body": case_body},
            {"path": "/api/v1/cases/{case_ref}/agreements", "method": "post",
             "body": agreements},
        ],
        "path_examples": [
            {"path": "/api/v1/consents/{id}", "method": "get", "name": "id",
             "value": consents[0]["id"]},
            {"path": "/api/v1/consents/{id}/withdraw", "method": "post", "name": "id",
             "value": withdrawable["id"]},
            {"path": "/api/v1/exchanges/{id}", "method": "get", "name": "id",
             "value": sent["id"]},
            {"path": "/api/v1/signals/{id}/close", "method": "post", "name": "id",
             "value": school_signal["id"]},
            {"path": "/api/v1/inbox/{id}/ack", "method": "post", "name": "id",
             "value": received["id"]},
            {"path": "/api/v1/reidentifications/{id}", "method": "get", "name": "id",
             "value": pending[0]},
            {"path": "/api/v1/reidentifications/{id}/approve", "method": "post", "name": "id",
             "value": pending[1]},
            {"path": "/api/v1/reidentifications/{id}/refuse", "method": "post", "name": "id",
             "value": pending[2]},
            {"path": "/api/v1/cases/{case_ref}", "method": "get", "name": "case_ref",
             "value": agreed},
            {"path": "/api/v1/cases/{case_ref}/agreements", "method": "post",
             "name": "case_ref", "value": agreed},
            {"path": "/api/v1/cases/{case_ref}/agreements/{no}/done", "method": "post",
             "name": "case_ref", "value": agreed},
            {"path": "/api/v1/cases/{case_ref}/agreements/{no}/done", "method": "post",
             "name": "no", "value": "1"},
            {"path": "/api/v1/cases/{case_ref}/close", "method": "post", "name": "case_ref",
             "value": to_close},
        ],
    }


def consultation_body(today: date) -> dict:
    """A consultation the school may open under the seeded case_consultation consent."""
    from tests import exchange_helpers as ex

    return {
        "kind": "consultation", "subject": {"bsn": ex.BSN}, "invite": [ex.GGD, ex.LEERPLICHT],
        "payload": {
            "meeting": {"date": (today + timedelta(days=14)).isoformat(), "mode": "online"},
            "question": "prevent_dropout", "concern_categories": ["wellbeing"],
            "education_sector": "po", "school_brin": "12AB", "date_of_birth": ex.born(today, 9),
            "respond_by": (today + timedelta(days=7)).isoformat(),
            "contact": {"name": "Mentor", "email": "mentor@example.nl"},
        },
    }


def agreements_body(today: date) -> dict:
    """Agreements of the seeded consultation: number 1 is the school's own."""
    from tests import exchange_helpers as ex

    due = (today + timedelta(days=30)).isoformat()
    return {
        "regie": ex.LEERPLICHT,
        "agreements": [{"party": "school", "action": "adjusted_timetable", "due_date": due},
                       {"party": ex.GGD, "action": "jgz_consultation", "due_date": due}],
        "next_review_date": due,
    }


def run(server_url: str, context: Path, report_dir: Path, *, max_examples: int,
        seed: int | None = None, workers: int = 1, max_time: int | None = None,
        extra_args: list[str] | None = None, timeout: int | None = None) -> RunResult:
    """Run the schemathesis CLI against ``server_url`` and read its reports."""
    if report_dir.exists():
        shutil.rmtree(report_dir)
    report_dir.mkdir(parents=True)
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{server_url}/api/v1/openapi.json",
        "--checks", ",".join(GATE_CHECKS),
        "--max-examples", str(max_examples),
        "--workers", str(workers),
        "--mode", "all",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--request-timeout", "30",
        "--suppress-health-check", "all",
        "--report", "ndjson,json,junit",
        "--report-dir", str(report_dir),
        "--no-color",
        "--continue-on-failure",
    ]
    if seed is not None:
        command += ["--seed", str(seed)]
    if max_time is not None:
        command += ["--max-time", str(max_time)]
    command += list(extra_args or [])
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "api_hooks",
        "GATEWAY_FUZZ_API_CONTEXT": str(context),
        "PYTHONPATH": os.pathsep.join([str(FUZZ), str(REPO)]),
        "NO_COLOR": "1",
        "COLUMNS": "120",
    }
    completed = subprocess.run(command, env=env, capture_output=True, text=True,
                               timeout=timeout, cwd=report_dir, stdin=subprocess.DEVNULL)
    result = RunResult(completed.returncode, completed.stdout + completed.stderr, report_dir)
    read_reports(result)
    return result


def _decode(container: dict | None) -> str:
    if not container:
        return ""
    if "$base64" in container:
        return base64.b64decode(container["$base64"]).decode("utf-8", "replace")
    return str(container.get("string", container))


def read_reports(result: RunResult) -> None:
    for path in result.report_dir.glob("json-*.json"):
        report = json.loads(path.read_text())
        result.cases = report["test_cases"]["generated"]
        result.operations_total = report["operations"]["total"]
        result.operations_tested = report["operations"]["tested"]
        result.phases = {name: phase["status"] for name, phase in report["phases"].items()}
        result.warnings = {k: v for k, v in report.get("warnings", {}).items() if v}
        result.errors = report.get("errors", [])
    seen = set()
    for path in result.report_dir.glob("ndjson-*.ndjson"):
        for line in path.read_text().splitlines():
            event = json.loads(line)
            finished = event.get("ScenarioFinished")
            if not finished:
                continue
            recorder = finished["recorder"]
            interactions = recorder.get("interactions", {})
            for case_id, interaction in interactions.items():
                response = interaction.get("response") or {}
                request = interaction.get("request") or {}
                case = recorder.get("cases", {}).get(case_id, {}).get("value", {})
                label = f"{case.get('method', request.get('method', '?')).upper()} " \
                        f"{case.get('path', '?')}"
                status = response.get("status_code")
                result.statuses.setdefault(label, collections.Counter())[status] += 1
            for case_id, checks in recorder.get("checks", {}).items():
                for check in checks:
                    if check.get("status") != "failure":
                        continue
                    info = (check.get("failure_info") or {}).get("failure") or {}
                    interaction = interactions.get(case_id) or {}
                    request = interaction.get("request") or {}
                    response = interaction.get("response") or {}
                    failure = Failure(
                        operation=info.get("operation") or recorder.get("label", "?"),
                        check=check["name"], code=info.get("code", ""),
                        title=info.get("title", ""), message=info.get("message", ""),
                        method=request.get("method", ""), uri=request.get("uri", ""),
                        request_body=_decode(request.get("body")),
                        status=response.get("status_code"),
                        response_body=_decode(response.get("content")),
                    )
                    key = (failure.operation, failure.check, failure.code, failure.status,
                           failure.message[:120])
                    if key not in seen:
                        seen.add(key)
                        result.failures.append(failure)


def summary(result: RunResult) -> str:
    lines = [
        f"schemathesis exit code {result.exit_code}; {result.cases} test cases; operations "
        f"{result.operations_tested}/{result.operations_total} tested; phases {result.phases}",
        "answers per operation (status: count):",
    ]
    for label in sorted(result.statuses):
        counts = ", ".join(f"{status}: {n}" for status, n in sorted(
            result.statuses[label].items(), key=lambda item: str(item[0])))
        lines.append(f"  {label}: {counts}")
    groups: dict[tuple, list[Failure]] = {}
    for failure in result.failures:
        first_line = failure.message.strip().splitlines()[0] if failure.message.strip() else ""
        shape = "uri-reference" if '"uri-reference"' in first_line else first_line[:80]
        groups.setdefault((failure.operation, failure.check, failure.code, shape), []).append(
            failure)
    lines.append(f"unique failures: {len(result.failures)}, in {len(groups)} groups "
                 "(operation, check, kind), one example each:")
    for (_, _, _, _), members in sorted(groups.items()):
        lines.append(f"  [{len(members)}x] " + members[0].describe())
    if result.errors:
        lines.append(f"errors: {json.dumps(result.errors)[:2000]}")
    if result.warnings:
        lines.append(f"warnings: {json.dumps(result.warnings)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=700,
                        help="examples per operation and phase (700 gives > 10,000 cases)")
    parser.add_argument("--seed", type=int, default=None)
    # 1 by default: two workers race in CPython 3.11's ast module through hypothesis
    # (tests/e2e/test_schemathesis_api.py says more)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--max-time", type=int, default=None)
    parser.add_argument("--report-dir", type=Path,
                        default=REPO / "instance" / "fuzz" / "api-report")
    parser.add_argument("--keep", action="store_true", help="keep the server's work directory")
    parser.add_argument("extra", nargs="*", help="passed on to `schemathesis run` after --")
    args = parser.parse_args(argv)
    from tests.e2e.conftest import stop_server

    workdir = Path(tempfile.mkdtemp(prefix="gateway-api-fuzz-"))
    server, context = prepare(workdir)
    try:
        result = run(server.url, context, args.report_dir.resolve(),
                     max_examples=args.max_examples, seed=args.seed, workers=args.workers,
                     max_time=args.max_time, extra_args=args.extra)
    finally:
        stop_server(server.process)
    print(result.output)
    print(summary(result))
    server_errors = [line for line in (workdir / "instance" / "server.log").read_text(
        errors="replace").splitlines() if '"level": "error"' in line]
    print(f"server log: {len(server_errors)} error lines")
    for line in server_errors[:20]:
        print("  " + line[:400])
    if args.keep:
        print(f"server work directory kept: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
