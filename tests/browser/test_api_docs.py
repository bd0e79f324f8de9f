"""``/api/v1/docs`` in a real headless Chromium (Debian's ``chromium`` via Playwright) against
a real gateway: Swagger UI renders the OpenAPI 3.1 document's operations, every request the
page makes stays on the gateway, and the CSP blocks nothing. The page is saved as a screenshot
under ``tests/browser/artifacts/`` (git-ignored)."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import start_server, stop_server

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")


@pytest.fixture(scope="module")
def server(tmp_path_factory, keys_dir):
    instance = tmp_path_factory.mktemp("api-docs")
    shutil.copytree(keys_dir, instance / "keys")
    live = start_server(instance, instance / "keys")
    yield live
    stop_server(live.process)


@pytest.fixture
def page():
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        tab = chromium.new_context(viewport={"width": 1366, "height": 900}).new_page()
        yield tab
        chromium.close()


def test_swagger_ui_renders_the_operations_from_local_assets_only(server, page):
    requested: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(server.url + "/api/v1/docs")
    send = page.locator(".opblock-post:has([data-path='/api/v1/exchanges'])").first
    send.wait_for(timeout=20_000)
    assert "/api/v1/exchanges" in send.inner_text()
    assert page.locator(".opblock").count() >= 20
    assert page.locator(".opblock-get [data-path='/api/v1/inbox']").count() == 1
    assert "OAS 3.1" in page.locator(".information-container, .info").first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "api-docs-top.png"))

    send.locator(".opblock-summary").first.click()  # the operation opens, schemas and all
    page.locator(".opblock-post.is-open .responses-wrapper").first.wait_for(timeout=10_000)
    opened = page.locator(".opblock-post.is-open").first
    assert "202" in opened.locator(".responses-wrapper").first.inner_text()
    # the request body shows its examples (issue 18): the first one's value, and the others
    # by their summaries in the drop-down
    body = opened.locator(".opblock-section-request-body").first
    body.locator(".body-param__example, .microlight").first.wait_for(timeout=10_000)
    shown = body.inner_text()
    assert '"recipient": "00000001005678901000"' in shown, shown[:2000]
    assert '"school_brin": "12AB"' in shown
    examples = body.locator(".examples-select select").first.inner_text()
    assert "support_request, school -> wij (consent)" in examples, examples
    # and the answers show theirs: the 202 and a problem with a code from the problem table
    answers = opened.locator(".responses-wrapper").first.inner_text()
    assert '"status": "accepted"' in answers
    assert "urn:nl:thuiszitterspact:problem:route_not_allowed" in answers or (
        '"code": "insufficient_scope"' in answers
    ), answers[:3000]
    page.screenshot(path=str(ARTIFACTS / "api-docs-exchange.png"))

    origin = urlsplit(server.url).netloc
    outside = [url for url in requested
               if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != origin]
    assert not outside, outside
    assert not errors, errors
