"""The Dutch API Design Rules (ADR 2.x, Logius) on the running gateway.

Logius's linter (Spectral 6 with the ruleset named by ``GATEWAY_ADR_RULESET``, by default
``../shared/standards/adr-linter.yaml`` beside the repository) runs on the document that a
real gunicorn server serves, through the project's ``.spectral.yaml``: no error may remain.
Every suppression in ``.spectral.yaml`` must still be needed (the bare ruleset reports exactly
the suppressed rule-path pairs), so a stale one cannot hide a new error. The functional rules
the linter cannot see are checked on live answers: ``API-Version`` and the transport security
headers on every kind of answer (``/core/version-header``, ``/core/transport/security-headers``)
and problem+json for errors (``/core/error-handling/problem-details``).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import requests
import yaml

from gateway.version import API_VERSION

REPO = Path(__file__).resolve().parents[2]
SPECTRAL = REPO / "node_modules" / ".bin" / "spectral"
PROJECT_RULESET = REPO / ".spectral.yaml"
DEFAULT_RULESET = "../shared/standards/adr-linter.yaml"
VENDORED_RULESET = "standards/adr-linter.yaml"
ERROR = 0  # Spectral's severity of an error (1 warning, 2 info, 3 hint)


def adr_ruleset() -> Path:
    """Logius's ruleset: ``GATEWAY_ADR_RULESET`` (relative to the repo; it must exist), else
    the shared copy beside the repository, else the byte-identical copy in ``standards/``
    (a clone in a temporary folder has no ``../shared``; standards/README.md)."""
    raw = os.environ.get("GATEWAY_ADR_RULESET")
    if raw:
        path = (REPO / raw).resolve()
        if not path.is_file():
            pytest.fail(f"GATEWAY_ADR_RULESET names no file: {path}")
        return path
    shared = (REPO / DEFAULT_RULESET).resolve()
    path = shared if shared.is_file() else REPO / VENDORED_RULESET
    if not path.is_file():
        pytest.fail(f"the API Design Rules ruleset is missing: {path}")
    return path


def spectral() -> Path:
    if not SPECTRAL.is_file():
        pytest.fail(f"Spectral is not installed at {SPECTRAL}: run `make install-test`")
    return SPECTRAL


def lint(directory: Path, ruleset: dict) -> list[dict]:
    """Spectral's findings on ``directory/openapi.json`` with ``ruleset`` written beside it
    (an override's ``files`` glob is relative to its ruleset's folder)."""
    path = directory / "ruleset.yaml"
    path.write_text(yaml.safe_dump(ruleset, sort_keys=False), encoding="utf-8")
    result = subprocess.run(
        [
            str(spectral()),
            "lint",
            "--quiet",
            "-f",
            "json",
            "--fail-severity",
            "error",
            "-r",
            str(path),
            "openapi.json",
        ],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode not in (0, 1) or not result.stdout.strip():  # 2: Spectral itself failed
        pytest.fail(f"spectral failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout)


def project_ruleset() -> dict:
    """``.spectral.yaml`` with its ``extends`` pointing at the configured Logius ruleset."""
    ruleset = yaml.safe_load(PROJECT_RULESET.read_text(encoding="utf-8"))
    assert ruleset["extends"] == [DEFAULT_RULESET]
    return {**ruleset, "extends": [str(adr_ruleset())]}


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def suppressions(ruleset: dict) -> set[tuple[str, tuple[str, ...]]]:
    """(rule id, JSON path) of every override."""
    found = set()
    for override in ruleset.get("overrides", []):
        for pattern in override["files"]:
            pointer = pattern.split("#", 1)[1]
            where = tuple(unescape(token) for token in pointer.strip("/").split("/"))
            for rule, severity in override["rules"].items():
                assert severity == "off", (rule, severity)
                found.add((rule, where))
    return found


def show(findings: list[dict]) -> str:
    return "\n".join(
        f"{f['code']} at {'/'.join(map(str, f['path']))}: {f['message']}" for f in findings
    )


@pytest.fixture(scope="module")
def served(live_server, tmp_path_factory) -> Path:
    """The folder holding the document the running gateway serves, as ``openapi.json``."""
    response = requests.get(f"{live_server.url}/api/v1/openapi.json", timeout=30)
    assert response.status_code == 200
    folder = tmp_path_factory.mktemp("adr")
    (folder / "openapi.json").write_text(response.text, encoding="utf-8")
    return folder


def test_the_served_document_has_no_adr_linter_errors(served):
    findings = lint(served, project_ruleset())
    errors = [f for f in findings if f["severity"] == ERROR]
    assert errors == [], "API Design Rules linter errors:\n" + show(errors)


def test_every_suppression_is_still_needed_and_hides_nothing_else(served):
    """Without the overrides, the errors are exactly the suppressed rules at their paths."""
    errors = [f for f in lint(served, {"extends": [str(adr_ruleset())]}) if f["severity"] == ERROR]
    suppressed = suppressions(yaml.safe_load(PROJECT_RULESET.read_text(encoding="utf-8")))
    assert suppressed, "the project ruleset should explain the well-known path at least"

    def covered(finding) -> tuple[str, tuple[str, ...]] | None:
        for rule, where in suppressed:
            if finding["code"] == rule and tuple(finding["path"][: len(where)]) == where:
                return rule, where
        return None

    uncovered = [f for f in errors if covered(f) is None]
    assert uncovered == [], "errors no override explains:\n" + show(uncovered)
    assert {covered(f) for f in errors} == suppressed, "an override that nothing needs"


def test_the_version_header_and_security_headers_are_on_every_kind_of_answer(live_server):
    url = live_server.url
    answers = {
        "document": requests.get(f"{url}/api/v1/openapi.json", timeout=30),
        "public register": requests.get(f"{url}/api/v1/processing-activities", timeout=30),
        "no token": requests.get(f"{url}/api/v1/inbox", timeout=30),
        "bad token": requests.get(
            f"{url}/api/v1/inbox", headers={"Authorization": "Bearer nonsense"}, timeout=30
        ),
        "unknown path": requests.get(f"{url}/api/v1/no-such-thing", timeout=30),
        "wrong method": requests.delete(f"{url}/api/v1/openapi.json", timeout=30),
        "bad transaction id": requests.get(
            f"{url}/api/v1/openapi.json", headers={"Fsc-Transaction-Id": "x"}, timeout=30
        ),
        "oauth refusal": requests.post(f"{url}/oauth/token", data={}, timeout=30),
        "metadata": requests.get(f"{url}/.well-known/oauth-authorization-server", timeout=30),
    }
    for name, response in answers.items():
        headers = response.headers
        assert headers.get("API-Version") == API_VERSION, name
        assert headers.get("X-Content-Type-Options") == "nosniff", name
        assert headers.get("X-Frame-Options") == "DENY", name
        assert "frame-ancestors 'none'" in headers.get("Content-Security-Policy", ""), name
        assert headers.get("Cache-Control") == "no-store", name
    for name in ("no token", "bad token", "unknown path", "wrong method", "bad transaction id"):
        response = answers[name]
        assert response.status_code in (400, 401, 404, 405), name
        assert response.headers["Content-Type"].startswith("application/problem+json"), name
        problem = response.json()
        assert {"type", "title", "status", "detail", "code"} <= set(problem), name
        assert problem["status"] == response.status_code, name
    # /core/http-methods: RFC 9110 section 15.5.6
    assert "GET" in answers["wrong method"].headers["Allow"].split(", ")
    # RFC 6749 section 5.2 fixes the token endpoint's error body (explained in the table)
    assert answers["oauth refusal"].status_code == 400
    assert answers["oauth refusal"].json()["error"] == "invalid_request"


def test_the_version_header_is_the_documents_version(live_server):
    response = requests.get(f"{live_server.url}/api/v1/openapi.json", timeout=30)
    assert response.headers["API-Version"] == response.json()["info"]["version"] == API_VERSION


def test_the_document_is_readable_from_any_origin_and_the_api_is_not(live_server):
    """``/core/publish-openapi``: documentation tools elsewhere may fetch the document; the
    API itself grants no other origin (``/core/transport/cors``)."""
    origin = {"Origin": "https://docs.example.org"}
    document = requests.get(f"{live_server.url}/api/v1/openapi.json", headers=origin, timeout=30)
    assert document.headers["Access-Control-Allow-Origin"] == "*"
    for path in ("/api/v1/inbox", "/api/v1/processing-activities", "/oauth/jwks"):
        response = requests.get(f"{live_server.url}{path}", headers=origin, timeout=30)
        assert "Access-Control-Allow-Origin" not in response.headers, path


def test_a_trailing_slash_is_404_not_a_redirect(live_server):
    """``/core/no-trailing-slash``."""
    for path in ("/api/v1/openapi.json/", "/api/v1/processing-activities/", "/api/v1/inbox/"):
        response = requests.get(f"{live_server.url}{path}", allow_redirects=False, timeout=30)
        assert response.status_code == 404, path
        assert response.headers["Content-Type"].startswith("application/problem+json"), path
