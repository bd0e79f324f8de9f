"""The lowerCamelCase query keys (ADR ``/core/query-keys-camel-case``) and the snake_case keys
of API.md v1 as deprecated aliases (``/core/deprecation-schedule``): an alias answers as its
key does, with ``Deprecation`` (RFC 9745), ``Sunset`` (RFC 8594) and a ``Link`` to the docs;
the documented key answers without them; both at once with different values is 400
``invalid_parameter``. Also how the OpenAPI document says so.
"""

from __future__ import annotations

import pytest

from gateway.monitoring.indicators import SchoolYear
from tests import exchange_helpers as ex
from tests.functional_partners import AppPartners

TODAY = ex.today()
YEAR = SchoolYear.containing(TODAY).label
DEPRECATION = "@1796601600"  # 2026-12-07T00:00:00Z, the release that documented the keys
SUNSET = "Fri, 31 Dec 2027 00:00:00 GMT"
LINK = '</api/v1/docs>; rel="deprecation"; type="text/html"'


@pytest.fixture
def partners(sqlite_url, keys_dir) -> AppPartners:
    return AppPartners(sqlite_url, keys_dir)


def _not_deprecated(response) -> None:
    for name in ("Deprecation", "Sunset", "Link"):
        assert name not in response.headers, name


def _deprecated(response) -> None:
    assert response.headers["Deprecation"] == DEPRECATION
    assert response.headers["Sunset"] == SUNSET
    assert response.headers["Link"] == LINK


def _refused(response, key: str) -> None:
    assert response.status_code == 400, response.json
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "invalid_parameter"
    assert list(response.json["errors"]) == [key]


def test_school_year_and_its_alias_answer_alike(partners):
    camel = partners.get(ex.LEERPLICHT, "/api/v1/monitoring/indicators", schoolYear=YEAR)
    assert camel.status_code == 200 and camel.json["school_year"] == YEAR
    _not_deprecated(camel)
    snake = partners.get(ex.LEERPLICHT, "/api/v1/monitoring/indicators", school_year=YEAR)
    assert snake.status_code == 200
    _deprecated(snake)
    camel_body, snake_body = dict(camel.json), dict(snake.json)
    camel_body.pop("generated_at"), snake_body.pop("generated_at")
    assert snake_body == camel_body
    both = partners.get(
        ex.LEERPLICHT, "/api/v1/monitoring/indicators", schoolYear=YEAR, school_year=YEAR
    )
    assert both.status_code == 200 and both.json["school_year"] == YEAR
    _deprecated(both)


def test_school_year_and_its_alias_disagreeing_is_refused(partners):
    response = partners.get(
        ex.LEERPLICHT,
        "/api/v1/monitoring/indicators",
        schoolYear="2025-2026",
        school_year="2024-2025",
    )
    _refused(response, "schoolYear")
    _deprecated(response)


def test_a_refusal_names_the_key_that_was_sent(partners):
    _refused(
        partners.get(ex.LEERPLICHT, "/api/v1/monitoring/indicators", schoolYear=""), "schoolYear"
    )
    alias = partners.get(ex.LEERPLICHT, "/api/v1/monitoring/indicators", school_year="")
    _refused(alias, "school_year")
    _deprecated(alias)


def test_message_type_filters_the_audit_search_under_both_names(partners):
    sent = partners.send(ex.SCHOOL, "absence_report", ex.LEERPLICHT, ex.absence_report(TODAY))
    assert sent.status_code == 202, sent.json

    def search(**params):
        response = partners.get(ex.OPERATOR, "/api/v1/audit/events", **params)
        assert response.status_code == 200, response.json
        return response

    camel = search(messageType="absence_report")
    _not_deprecated(camel)
    found = [event["seq"] for event in camel.json["items"]]
    assert found and all(e["message_type"] == "absence_report" for e in camel.json["items"])
    snake = search(message_type="absence_report")
    _deprecated(snake)
    assert [event["seq"] for event in snake.json["items"]] == found
    assert search(messageType="homebound_report").json["items"] == []
    assert search(message_type="homebound_report").json["items"] == []
    _refused(
        partners.get(
            ex.OPERATOR,
            "/api/v1/audit/events",
            messageType="absence_report",
            message_type="homebound_report",
        ),
        "messageType",
    )
    _refused(
        partners.get(ex.OPERATOR, "/api/v1/audit/events", message_type="gossip"), "message_type"
    )


@pytest.mark.parametrize(
    "path, key, alias",
    [
        ("/api/v1/audit/proof/1", "treeSize", "tree_size"),
        ("/api/v1/audit/consistency", "fromSize", "from_size"),
        ("/api/v1/audit/consistency", "toSize", "to_size"),
    ],
)
def test_audit_sizes_under_both_names(partners, path, key, alias):
    others = {"fromSize": "3", "toSize": "4"} if "consistency" in path else {}
    others.pop(key, None)
    camel = partners.get(ex.OPERATOR, path, **others, **{key: "0"})
    _refused(camel, key)
    _not_deprecated(camel)
    snake = partners.get(ex.OPERATOR, path, **others, **{alias: "0"})
    _refused(snake, alias)
    _deprecated(snake)
    _refused(partners.get(ex.OPERATOR, path, **others, **{key: "2", alias: "3"}), key)


def test_the_document_names_the_camel_case_keys_and_their_deprecated_aliases(partners):
    document = partners.client.get("/api/v1/openapi.json").json
    queries = {
        ("/api/v1/audit/events", "get"): {"messageType": "message_type"},
        ("/api/v1/audit/proof/{seq}", "get"): {"treeSize": "tree_size"},
        ("/api/v1/audit/consistency", "get"): {"fromSize": "from_size", "toSize": "to_size"},
        ("/api/v1/monitoring/indicators", "get"): {"schoolYear": "school_year"},
    }
    for (path, method), keys in queries.items():
        operation = document["paths"][path][method]
        parameters = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
        for key, alias in keys.items():
            assert alias not in parameters, (path, alias)
            assert f"Deprecated alias: `{alias}`" in parameters[key]["description"]
        for name in ("Deprecation", "Sunset", "Link"):
            assert name in operation["responses"]["200"]["headers"], (path, name)
            assert name in operation["responses"]["400"]["headers"], (path, name)
            # token and scope are refused before the query is read
            assert name not in operation["responses"]["401"].get("headers", {}), (path, name)
    every_query_key = {
        p["name"]
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
        for p in operation.get("parameters", [])
        if p["in"] == "query"
    }
    assert not [key for key in every_query_key if "_" in key]
