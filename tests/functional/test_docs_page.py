"""``/api/v1/docs``: Swagger UI from the installed package, every asset served by the gateway
(no CDN, nothing the CSP of gateway.http would block), fed by ``/api/v1/openapi.json``."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from gateway.docs.views import SWAGGER_UI_VERSION

CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png",
                 ".json": "application/json"}


def references(html: str) -> list[str]:
    return re.findall(r'(?:src|href|data-spec)="([^"]+)"', html)


def test_every_asset_the_page_names_is_served_by_the_gateway(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    sources = references(page.get_data(as_text=True))
    assert {s.rsplit("/", 1)[-1] for s in sources} >= {
        "swagger-ui.css", "swagger-ui-bundle.js", "swagger-init.js", "docs.css",
        "openapi.json"}
    for source in sources:
        parts = urlsplit(source)
        assert not parts.scheme and not parts.netloc and source.startswith("/"), source
        asset = client.get(source)
        assert asset.status_code == 200, source
        suffix = "." + parts.path.rsplit(".", 1)[-1]
        assert asset.mimetype == CONTENT_TYPES[suffix], (source, asset.mimetype)
        assert asset.content_length or asset.get_data(), source


def test_the_page_names_no_external_host_and_runs_no_inline_script(client):
    page = client.get("/api/v1/docs")
    html = page.get_data(as_text=True)
    assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, re.IGNORECASE), html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # the CSP allows scripts from 'self'
    assert "style=" not in html
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp


def test_the_init_script_starts_swagger_ui_on_the_gateways_document(client):
    script = client.get("/static/docs/swagger-init.js").get_data(as_text=True)
    assert "SwaggerUIBundle(" in script
    assert "validatorUrl: null" in script  # never posts the document to an outside validator
    assert "queryConfigEnabled: false" in script
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert 'data-spec="/api/v1/openapi.json"' in page


def test_the_bundle_is_swagger_ui_5_which_reads_openapi_3_1(client):
    assert int(SWAGGER_UI_VERSION.split(".")[0]) >= 5
    bundle = client.get(f"/api/v1/docs/swagger-ui/{SWAGGER_UI_VERSION}/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    assert b"isOAS31" in bundle.get_data()
    assert "max-age" in bundle.headers["Cache-Control"]


def test_only_the_packages_own_files_of_the_current_version_are_served(client):
    base = "/api/v1/docs/swagger-ui"
    assert client.get(f"{base}/0.0.1/swagger-ui.css").status_code == 404
    assert client.get(f"{base}/{SWAGGER_UI_VERSION}/../__init__.py").status_code == 404
    assert client.get(f"{base}/{SWAGGER_UI_VERSION}/%2e%2e/__init__.py").status_code == 404
    assert client.get(f"{base}/{SWAGGER_UI_VERSION}/nothing.js").status_code == 404
