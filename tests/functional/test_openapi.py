"""The OpenAPI document validates as OpenAPI 3.1 and the docs page uses only local assets."""

import re

from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError  # noqa: F401


def test_document_is_valid_openapi_3_1(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_document_covers_the_exchange_api_and_message_types(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/exchanges", "/api/v1/exchanges/{id}", "/api/v1/inbox",
                 "/api/v1/inbox/{id}/ack"):
        assert path in document["paths"], path
    schemas = document["components"]["schemas"]
    for name in ("AbsenceReport", "SicknessAbsenceReferral", "JgzAdvice", "SupportRequest",
                 "SupportFeedback", "HomeboundReport", "Problem", "InboxItem"):
        assert name in schemas, name


def test_docs_page_loads_only_local_assets(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    for source in sources:
        assert source.startswith("/"), source
        assert client.get(source).status_code == 200, source
    assert "<script>" not in html  # CSP forbids inline script
