"""Every error is RFC 9457 problem+json with a stable code, and never a traceback.

The routes under ``/api/v1/_test`` are registered by this test module only, to drive the
shared request-body parser and the unexpected-error path before real API endpoints exist.
"""

import json
import uuid

import pytest
from flask import Blueprint, jsonify

from gateway.api.request import json_body

PROBLEM = "application/problem+json"
test_bp = Blueprint("_test", __name__)


@test_bp.post("/api/v1/_test/echo")
def echo():
    return jsonify(json_body())


@test_bp.post("/api/v1/_test/optional")
def optional():
    return jsonify(json_body(optional=True))


@test_bp.get("/api/v1/_test/boom")
def boom():
    raise RuntimeError("secret internal detail 123456782")


@pytest.fixture
def api(app):
    app.register_blueprint(test_bp)
    return app.test_client()


def assert_problem(response, status, code):
    assert response.status_code == status
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["code"] == code
    for member in ("type", "title", "detail", "instance"):
        assert member in body
    assert response.headers["API-Version"].startswith("1.")
    return body


def test_unknown_path_is_404_problem(client):
    body = assert_problem(client.get("/api/v1/nothing-here"), 404, "not_found")
    assert body["instance"] == "/api/v1/nothing-here"


def test_wrong_method_is_405_problem_with_allow(client):
    response = client.delete("/healthz")
    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_wrong_content_type_is_415(api):
    response = api.post("/api/v1/_test/echo", data="a=1", content_type="text/plain")
    assert_problem(response, 415, "unsupported_media_type")


def test_form_body_is_415(api):
    response = api.post("/api/v1/_test/echo", data={"a": "1"})
    assert_problem(response, 415, "unsupported_media_type")


def test_body_over_256_kib_is_413(api):
    body = json.dumps({"a": "x" * (256 * 1024)})
    response = api.post("/api/v1/_test/echo", data=body, content_type="application/json")
    assert_problem(response, 413, "payload_too_large")


def test_body_of_exactly_the_limit_passes_the_size_check(api):
    filler = 256 * 1024 - len('{"a": ""}')
    body = '{"a": "' + "x" * filler + '"}'
    assert len(body.encode()) == 256 * 1024
    response = api.post("/api/v1/_test/echo", data=body, content_type="application/json")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "raw",
    [
        '{"a": 1, "a": 2}',
        '{"a": NaN}',
        '{"a": Infinity}',
        '{"a":' * 33 + "1" + "}" * 33,
        "[" * 100_000 + "]" * 100_000,
        "[1]",
        '{"a": ',
    ],
    ids=["duplicate", "nan", "infinity", "depth33", "deep100k", "not-object", "malformed"],
)
def test_strict_json_refusals(api, raw):
    response = api.post("/api/v1/_test/echo", data=raw, content_type="application/json")
    assert_problem(response, 400, "invalid_json")


def test_json_charset_parameter_is_accepted(api):
    response = api.post(
        "/api/v1/_test/echo", data='{"a": 1}', content_type="application/json; charset=utf-8"
    )
    assert response.status_code == 200
    assert response.get_json() == {"a": 1}


def test_optional_body_accepts_empty_and_empty_object(api):
    assert api.post("/api/v1/_test/optional").get_json() == {}
    response = api.post("/api/v1/_test/optional", data="{}", content_type="application/json")
    assert response.get_json() == {}


def test_invalid_transaction_id_is_400_invalid_parameter(api):
    response = api.post(
        "/api/v1/_test/echo",
        data="{}",
        content_type="application/json",
        headers={"Fsc-Transaction-Id": "not-a-uuid"},
    )
    body = assert_problem(response, 400, "invalid_parameter")
    assert "Fsc-Transaction-Id" in body["errors"]


def test_unexpected_exception_is_500_with_error_id_and_no_traceback(api, caplog):
    response = api.get("/api/v1/_test/boom")
    body = assert_problem(response, 500, "internal_error")
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    assert "RuntimeError" not in text
    assert "secret internal detail" not in text
    assert "123456782" not in text
    uuid.UUID(body["error_id"])
    logged = [r for r in caplog.records if getattr(r, "error_id", None) == body["error_id"]]
    assert logged, "the error id must be in the log"
    assert logged[0].exc_info is not None


def test_transaction_id_is_echoed_or_made(client):
    given = str(uuid.uuid4())
    assert (
        client.get("/healthz", headers={"Fsc-Transaction-Id": given}).headers["Fsc-Transaction-Id"]
        == given
    )
    made = client.get("/healthz").headers["Fsc-Transaction-Id"]
    assert uuid.UUID(made).version == 7


def test_security_headers_on_every_response(client):
    response = client.get("/healthz")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_instance_is_a_percent_encoded_uri_reference(client):
    body = client.get("/api/v1/nothing%0E%C3%B5 here").get_json()
    assert body["instance"] == "/api/v1/nothing%0E%C3%B5%20here"
