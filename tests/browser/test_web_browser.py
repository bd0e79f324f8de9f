"""The web interface in a real headless Chromium (Debian's ``chromium`` via Playwright)
against a real gateway (gunicorn, two workers) with its built-in development IdP.

Partner data is made through the real API (OAuth client assertions, exchanges, consents, a
re-identification request). Every page visited is saved as a screenshot under
``tests/browser/artifacts/`` (git-ignored), for people to look at.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from tests import exchange_helpers as ex
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.partners import register_partners

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TODAY = ex.today()

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")


@pytest.fixture(scope="module")
def server(tmp_path_factory, keys_dir):
    instance = tmp_path_factory.mktemp("browser")
    shutil.copytree(keys_dir, instance / "keys")
    live = start_server(instance, instance / "keys")
    yield live
    stop_server(live.process)


@pytest.fixture(scope="module")
def data(server, tmp_path_factory):
    """An exchange about the child, a re-identification request and a foreign consent."""
    partners = register_partners(server, tmp_path_factory.mktemp("partners"))
    school, swv, wij = partners[ex.SCHOOL], partners[ex.SWV], partners[ex.WIJ]
    assert school.send("absence_report", ex.SWV, ex.absence_report(TODAY)).status_code == 202
    item = swv.drain()[0]
    request = requests.post(f"{server.url}/api/v1/reidentifications", headers=swv.headers(),
                            json={"pseudonym": item["subject"]["pseudonym"],
                                  "reason": "Zorgplicht: leerling niet in beeld",
                                  "legal_basis": "Wet passend onderwijs"}, timeout=10)
    assert request.status_code == 202, request.text
    consent = requests.post(f"{server.url}/api/v1/consents", headers=wij.headers(), json={
        "subject": {"bsn": ex.BSN}, "date_of_birth": ex.born(TODAY, 9), "purpose": "support",
        "parties": [ex.WIJ, ex.GGD], "granted_by": [{"role": "parent"}],
        "valid_from": (TODAY - timedelta(days=1)).isoformat(),
        "valid_until": (TODAY + timedelta(days=90)).isoformat(),
        "evidence": {"method": "written", "reference": "WIJ-7"}}, timeout=10)
    assert consent.status_code == 201, consent.text
    return {"partners": partners, "request": request.json()["id"],
            "foreign_consent": consent.json()["id"]}


@pytest.fixture(scope="module")
def browser():
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL")
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    tab.on("dialog", lambda dialog: dialog.accept())
    yield tab
    context.close()
    assert not [p for p in problems if "Content Security Policy" in p], problems


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page, server, display_name: str, start: str = "/ui/") -> None:
    page.goto(server.url + start)
    assert "/devidp/sso" in page.url
    page.get_by_role("button", name=f"Inloggen als {display_name}").click()
    page.wait_for_url(f"{server.url}{start}*")


def test_log_in_through_the_idp_and_see_the_dashboard(server, data, page):
    page.goto(server.url + "/ui/")
    assert "/devidp/sso" in page.url
    shot(page, "01-devidp-login")
    button = page.get_by_role("button", name="Inloggen als Petra de Vries")
    button.focus()
    page.keyboard.press("Enter")  # by keyboard
    page.wait_for_url(server.url + "/ui/")
    assert page.get_by_role("heading", level=1).inner_text() == "Overzicht"
    assert page.locator("svg.chart").count() == 6  # 2 of exchanges, 4 of the pact
    assert "Verzuimmelding: School → Samenwerkingsverband" in page.content()
    assert page.get_by_text("Pactindicatoren schooljaar").count() == 1
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Naar de inhoud"
    shot(page, "02-dashboard")


def test_search_the_audit_log_and_see_it_intact(server, data, page):
    log_in(page, server, "Petra de Vries", "/ui/audit")
    assert "Integriteit gecontroleerd" in page.locator("#integrity").inner_text()
    page.get_by_label("Handeling").select_option("exchange.send")
    page.get_by_label("Besluit").select_option("allowed")
    page.get_by_role("button", name="Zoeken").click()
    page.wait_for_url("**decision=allowed**")
    rows = page.locator("table.events tbody tr")
    assert rows.count() >= 1
    assert "Verzuimmelding" in rows.first.inner_text()
    export = page.get_by_role("link", name="Exporteren als CSV").get_attribute("href")
    assert export.startswith("/ui/audit/export?") and "format=csv" in export
    shot(page, "03-audit")


def test_open_a_subject_report_without_the_bsn_in_any_url(server, data, page):
    log_in(page, server, "Petra de Vries", "/ui/audit/subject")
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    page.get_by_label("BSN van het kind").fill(ex.BSN)
    page.get_by_role("button", name="Rapport maken").click()
    page.wait_for_selector("table.events")
    body = page.locator("main").inner_text()
    assert "bericht verstuurd" in body and "Verzuimmelding" in body
    assert ex.BSN not in body
    assert all(ex.BSN not in url for url in urls)
    assert page.get_by_role("button", name="Afdrukken").is_visible()
    shot(page, "04-subject-report")
    page.emulate_media(media="print")
    assert not page.locator("header.site-header").is_visible()
    shot(page, "05-subject-report-print")


def test_approve_a_reidentification(server, data, page):
    log_in(page, server, "Petra de Vries", "/ui/reidentifications")
    request = page.locator("article.request", has_text=data["request"])
    assert "Zorgplicht" in request.inner_text()
    shot(page, "06-reidentifications")
    request.get_by_role("button", name="Goedkeuren").click()  # the dialog is accepted
    page.wait_for_url("**melding=approve")
    assert "Het verzoek is goedgekeurd." in page.locator("main").inner_text()
    shot(page, "07-reidentification-approved")
    swv = data["partners"][ex.SWV]
    answer = requests.get(f"{server.url}/api/v1/reidentifications/{data['request']}",
                          headers=swv.headers(), timeout=10).json()
    assert answer["status"] == "approved" and answer["bsn"] == ex.BSN


def test_suspend_an_organisation_and_its_client_stops(server, data, page):
    leerplicht = data["partners"][ex.LEERPLICHT]
    assert leerplicht.token()
    log_in(page, server, "Ahmed Jansen", "/ui/organisations")
    row = page.locator(f"#org-{ex.LEERPLICHT}")
    shot(page, "08-organisations")
    row.get_by_role("button", name="Schorsen").click()
    page.wait_for_url("**melding=suspended**")
    assert "geschorst" in page.locator(f"#org-{ex.LEERPLICHT}").inner_text()
    shot(page, "09-organisation-suspended")
    refused = requests.get(f"{server.url}/api/v1/inbox", headers=leerplicht.headers(),
                           timeout=10)
    assert refused.status_code == 401
    page.locator(f"#org-{ex.LEERPLICHT}").get_by_role("button", name="Activeren").click()
    page.wait_for_url("**melding=active**")


def test_a_partner_officer_cannot_reach_other_organisations_data_by_url(server, data, page):
    log_in(page, server, "Marieke Bakker")
    assert page.get_by_role("link", name="Herleidingen").count() == 0
    for path, status in (("/ui/reidentifications", 403), ("/ui/organisations", 403),
                         (f"/ui/consents/{data['foreign_consent']}", 404)):
        response = page.goto(server.url + path)
        assert response.status == status, path
    shot(page, "10-partner-foreign-consent-404")
    page.goto(f"{server.url}/ui/audit?org={ex.GGD}")
    assert "Geen gebeurtenissen gevonden" in page.locator("table.events").inner_text()
    page.goto(f"{server.url}/ui/audit")
    rows = page.locator("table.events tbody tr")
    assert rows.count() >= 2
    for index in range(rows.count()):
        assert "OBS De Regenboog" in rows.nth(index).inner_text(), "only its own events"
    shot(page, "11-partner-audit")


def test_a_user_without_a_role_gets_a_dutch_explanation(server, data, page):
    page.goto(server.url + "/ui/")
    page.get_by_role("button", name="Inloggen als Tim Visser").click()
    page.wait_for_url(server.url + "/ui/")
    assert page.get_by_role("heading", level=1).inner_text() == "Geen toegang"
    assert "geen rol in de gateway" in page.locator("main").inner_text()
    shot(page, "12-no-role")
