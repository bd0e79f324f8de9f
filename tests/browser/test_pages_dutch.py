"""The privacy officer's and the administrator's pages in real headless Chromium, at a
1366 px desktop and a 390 px phone: the page never grows wider than the window (wide tables
scroll inside their own box), and the visible text holds no code of the product.

"No code" is checked against the product's own lists, not the vocabulary's: message types,
purposes and legal bases from ``gateway/policies/routes.yaml``, the audit actions the code
writes, the problem codes, the registry's scopes, organisation types, statuses and login
methods, and the consent vocabularies; on top of that, no ``snake_case`` or ``dotted.name``
token may show at all. Set-up as in ``test_web_browser.py`` (a real gateway under gunicorn,
the development IdP, partner data made through the API); screenshots go to
``tests/browser/artifacts/``.
"""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
import yaml

from gateway.docs.openapi import build_spec
from gateway.registry import rules
from gateway.web import vocabulary
from schemas import vocabulary as contract
from tests import exchange_helpers as ex
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.partners import register_partners

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ROOT = Path(__file__).resolve().parents[2]
TODAY = date.today()
WIDTHS = (1366, 390)
OFFICER, ADMIN = "Petra de Vries", "Ahmed Jansen"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")

SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
DOTTED = re.compile(r"\b[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+\b")
EMAIL = re.compile(r"\S+@\S+")  # a person's NameID (who decided) is a name, not a code


def enums_of(node) -> set[str]:
    """The string values of every ``enum`` in an OpenAPI document (or part of one)."""
    if isinstance(node, dict):
        found = {value for value in node.get("enum", []) if isinstance(value, str)}
        return found.union(*(enums_of(value) for key, value in node.items() if key != "enum"))
    if isinstance(node, list):
        return set().union(*(enums_of(item) for item in node))
    return set()


def product_codes() -> set[str]:
    """Every code the product has that a page could be tempted to print."""
    routes = yaml.safe_load((ROOT / "gateway/policies/routes.yaml").read_text())["routes"]
    codes = {r["message_type"] for r in routes} | {r["purpose"] for r in routes}
    codes |= {r["legal_basis"]["type"] for r in routes}
    codes |= {r[side] for r in routes for side in ("sender_type", "recipient_type")}
    codes |= set(contract.MESSAGE_TYPES) | set(contract.AUDIT_PURPOSES)
    codes |= set(contract.GRANTOR_ROLES) | set(contract.EVIDENCE_METHODS)
    codes |= set(contract.CONSENT_STATUSES) | set(contract.REIDENTIFICATION_STATUSES)
    codes |= set(contract.AUDIT_DECISIONS)
    codes |= set(rules.SCOPES) | set(rules.ORGANISATION_TYPES) | set(rules.STATUSES)
    codes |= set(rules.AUTH_METHODS)
    codes |= set(vocabulary.TEXTS)  # the problem codes
    codes |= enums_of(build_spec("http://127.0.0.1"))  # every enum of the OpenAPI document
    actions = set()
    for path in (ROOT / "gateway").rglob("*.py"):
        actions |= set(re.findall(
            r"""["']((?:exchange|consent|signal|reidentification|audit|auth|pep|admin)"""
            r"""\.[a-z_.]+)["']""", path.read_text(encoding="utf-8")))
    return (codes | actions) - DUTCH_WORDS


DUTCH_WORDS = {"open"}
"""Codes that are also plain Dutch words (a case's status ``open`` reads "open" in Dutch too,
as in the navigation's "1 open")."""
CODES = product_codes()


def codes_in(text: str) -> list[str]:
    """The codes and code-shaped tokens in ``text`` (case-sensitive: "School" is a name)."""
    text = EMAIL.sub(" ", text)
    found = [code for code in CODES
             if re.search(rf"(?<![\w.:-]){re.escape(code)}(?![\w:-]|\.\w)", text)]
    return sorted(set(found + SNAKE.findall(text) + DOTTED.findall(text)))


def test_the_scan_finds_what_people_saw():
    """The scanner itself: the codes from the issue are found, Dutch prose is not."""
    seen = codes_in("absence_report (school → swv), organisation.create, written, exchange:send")
    assert {"absence_report", "school", "swv", "organisation.create", "written",
            "exchange:send"} <= set(seen)
    assert {"adjusted_timetable", "temporarily_unable", "luxury"} <= CODES  # OpenAPI enums
    assert codes_in("Verzuimmelding: School → Samenwerkingsverband, p.devries@beheer.example, "
                    "Leerplichtwet 1969 art. 21a.") == []


@pytest.fixture(scope="module")
def server(tmp_path_factory, keys_dir):
    instance = tmp_path_factory.mktemp("dutch")
    shutil.copytree(keys_dir, instance / "keys")
    live = start_server(instance, instance / "keys")
    yield live
    stop_server(live.process)


def request_reidentification(server, swv, pseudonym: str) -> str:
    answer = requests.post(f"{server.url}/api/v1/reidentifications", headers=swv.headers(),
                           json={"pseudonym": pseudonym, "reason": "Zorgplicht: leerling niet "
                                 "in beeld", "legal_basis": "Wet passend onderwijs"}, timeout=10)
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def record_consent(server, wij, days_ago: int) -> str:
    answer = requests.post(f"{server.url}/api/v1/consents", headers=wij.headers(), json={
        "subject": {"bsn": ex.BSN}, "date_of_birth": ex.born(TODAY, 9), "purpose": "support",
        "parties": [ex.WIJ, ex.SCHOOL], "granted_by": [{"role": "parent"}],
        "valid_from": (TODAY - timedelta(days=days_ago)).isoformat(),
        "valid_until": (TODAY + timedelta(days=90)).isoformat(),
        "evidence": {"method": "written", "reference": "WIJ-7"}}, timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


@pytest.fixture(scope="module")
def data(server, tmp_path_factory, browser):
    """Exchanges (one refused), two consents (the first superseded by the second), and two
    re-identification requests of which the officer refuses one, so the page has history."""
    partners = register_partners(server, tmp_path_factory.mktemp("partners"))
    school, swv, wij = partners[ex.SCHOOL], partners[ex.SWV], partners[ex.WIJ]
    assert school.send("absence_report", ex.SWV, ex.absence_report(TODAY)).status_code == 202
    refused = school.send("absence_report", ex.GGD, ex.absence_report(TODAY))
    assert refused.status_code >= 400
    pseudonym = swv.drain()[0]["subject"]["pseudonym"]
    refuse_me = request_reidentification(server, swv, pseudonym)
    pending = request_reidentification(server, swv, pseudonym)
    first = record_consent(server, wij, 5)
    second = record_consent(server, wij, 1)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="nl-NL")
    tab = context.new_page()
    tab.on("dialog", lambda dialog: dialog.accept())
    log_in(tab, server, OFFICER, "/ui/reidentifications")
    article = tab.locator("article.request", has_text=refuse_me)
    article.get_by_label("Reden van weigering").fill("Geen grond")
    article.get_by_role("button", name="Weigeren").click()
    tab.wait_for_url("**melding=refuse")
    context.close()
    return {"pending": pending, "refused": refuse_me, "consents": (first, second)}


@pytest.fixture(scope="module")
def browser():
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


def log_in(page, server, display_name: str, start: str = "/ui/") -> None:
    page.goto(server.url + start)
    assert "/devidp/sso" in page.url
    page.get_by_role("button", name=f"Inloggen als {display_name}").click()
    page.wait_for_url(f"{server.url}{start}*")


@pytest.fixture(params=WIDTHS, ids=lambda width: f"{width}px")
def width(request):
    return request.param


def open_as(browser, server, width: int, person: str, start: str):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="nl-NL")
    tab = context.new_page()
    log_in(tab, server, person, start)
    return context, tab


def check(page, name: str, width: int) -> str:
    """Fits the window, shows no code; the visible text for further checks."""
    page.screenshot(path=str(ARTIFACTS / f"dutch-{name}-{width}.png"), full_page=True)
    document_width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("document.documentElement.clientWidth")
    assert document_width == viewport, f"{name} at {width}px is {document_width}px wide"
    assert page.evaluate("window.innerWidth") == width
    if width >= 1366:  # on a desktop no column is cut off (the dashboard's days may scroll)
        cut = page.evaluate("""[...document.querySelectorAll('.table-wrap')]
            .filter(w => !w.querySelector('table.series') && w.scrollWidth > w.clientWidth + 1)
            .map(w => w.querySelector('caption')?.innerText)""")
        assert cut == [], f"{name}: tables cut off at {width}px"
    text = page.evaluate("document.body.innerText")
    assert codes_in(text) == [], f"{name} at {width}px shows codes"
    return text


def test_the_dashboard(server, data, browser, width):
    context, page = open_as(browser, server, width, OFFICER, "/ui/")
    text = check(page, "dashboard", width)
    assert "Verzuimmelding: School → Samenwerkingsverband" in text
    assert "Route niet toegestaan" in text and "uitwisselingen geweigerd" in text
    pending = page.locator("#tile-pending").inner_text()
    assert pending.startswith("1") and "wacht op een besluit" in pending
    assert "In orde" in page.locator("#tile-integrity").inner_text()
    assert page.get_by_role("link", name=re.compile(r"^Herleidingen 1")).count() == 1
    context.close()


def test_the_dashboard_of_the_administrator(server, data, browser, width):
    context, page = open_as(browser, server, width, ADMIN, "/ui/")
    check(page, "dashboard-admin", width)
    assert page.locator("#tile-pending").count() == 0  # not someone who decides
    context.close()


def test_the_consents_grouped_and_back_to_the_results(server, data, browser, width):
    context, page = open_as(browser, server, width, OFFICER, "/ui/consents")
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    check(page, "consents-search", width)
    page.get_by_label("BSN van het kind").fill(ex.BSN)
    page.get_by_role("button", name="Zoeken").click()
    page.wait_for_selector("#h-results")
    captions = page.locator("table.consents caption").all_inner_texts()
    assert captions[0].startswith("Geldig (1)"), captions
    assert page.locator("#group-superseded").count() == 1
    text = check(page, "consents-results", width)
    assert "WIJ Groningen, OBS De Regenboog" in text and ex.WIJ not in text
    page.locator("#group-active").get_by_role("button", name=re.compile("^Bekijken")).click()
    page.wait_for_selector("dl.facts")
    text = check(page, "consent", width)
    assert "Vastgelegd door\nWIJ Groningen" in text.replace("\t", "\n")
    assert "schriftelijk" in text and ex.WIJ not in text
    page.get_by_role("button", name="Terug naar de zoekresultaten").click()
    page.wait_for_selector("table.consents")
    assert page.locator("table.consents caption").first.inner_text().startswith("Geldig (1)")
    assert all(ex.BSN not in url for url in urls)
    context.close()


def test_the_reidentifications_with_their_history(server, data, browser, width):
    context, page = open_as(browser, server, width, OFFICER, "/ui/reidentifications")
    text = check(page, "reidentifications", width)
    assert page.locator("article.request", has_text=data["pending"]).count() == 1
    history = page.locator("table.history tbody tr")
    assert history.count() == 1
    row = history.first.inner_text()
    assert "geweigerd" in row and "SWV Groningen Stad" in row and "Geen grond" in row
    assert "Eerdere besluiten" in text
    context.close()


def test_the_organisations(server, data, browser, width):
    context, page = open_as(browser, server, width, ADMIN, "/ui/organisations")
    row = page.locator(f"#org-{ex.SWV}").inner_text()
    assert "Samenwerkingsverband" in row and "actief" in row
    page.locator(f"#org-{ex.SWV} details.client summary").first.click()
    text = check(page, "organisations", width)
    assert "berichten versturen" in text
    page.get_by_label("OIN (20 cijfers)").fill(ex.SWV)
    page.get_by_label("Naam").fill("Dubbel")
    page.get_by_role("button", name="Organisatie toevoegen").click()
    page.wait_for_selector(".notice-error")
    problem = page.locator(".notice-error").inner_text()
    assert problem == "Niet opgeslagen: Deze organisatie of koppeling bestaat al."
    check(page, "organisations-refused", width)
    context.close()


def test_the_error_page(server, data, browser, width):
    context, page = open_as(browser, server, width, OFFICER, "/ui/")
    response = page.goto(server.url + "/ui/consents/bestaat-niet")
    assert response.status == 404
    check(page, "error", width)
    context.close()


# the audit log and the subject report ---------------------------------------------------------
def test_the_audit_log(server, data, browser, width):
    context, page = open_as(browser, server, width, OFFICER, "/ui/audit")
    text = check(page, "audit", width)
    assert re.search(r"[0-9.]+ gebeurtenissen", text) and "nieuwste eerst" in text
    assert re.search(r"Integriteit gecontroleerd op [0-9]{2}-[0-9]{2}-[0-9]{4} om", text)
    assert page.get_by_role("link", name="Ondertekend controlepunt").count() == 1
    assert page.get_by_role("link", name="Openbare sleutel").count() == 1
    context.close()


def test_the_audit_log_filtered_with_dropdowns(server, data, browser, width):
    context, page = open_as(browser, server, width, OFFICER, "/ui/audit")
    page.get_by_label("Handeling").select_option(label="bericht verstuurd")
    page.get_by_label("Besluit").select_option(label="geweigerd")
    page.get_by_role("button", name="Zoeken").click()
    page.wait_for_url("**decision=denied**")
    check(page, "audit-filtered", width)
    rows = page.locator("table.events tbody tr")
    assert rows.count() >= 1
    for index in range(rows.count()):
        assert "Route niet toegestaan" in rows.nth(index).inner_text()
    context.close()


def test_a_bad_audit_filter_on_the_form(server, data, browser, width):
    context, page = open_as(browser, server, width, OFFICER, "/ui/audit")
    response = page.goto(f"{server.url}/ui/audit?from=2026-04-10&to=2026-04-01")
    assert response.status == 400
    text = check(page, "audit-bad-filter", width)
    assert "„Tot en met” ligt vóór „Van”" in text
    assert page.get_by_label("Tot en met").input_value() == "2026-04-01"
    context.close()


def test_the_trail_of_one_child(server, data, browser, width):
    context, page = open_as(browser, server, width, OFFICER, "/ui/audit?action=exchange.send")
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    page.get_by_role("link", name="Spoor van dit kind").first.click()
    page.wait_for_selector("h1:has-text('Spoor van één kind')")
    text = check(page, "audit-trail", width)
    assert "Terug naar de hele auditlog" in text and "Verzuimmelding" in text
    assert all(ex.BSN not in url for url in urls)
    page.get_by_role("link", name="Hele uitwisseling").first.click()
    page.wait_for_selector("h1:has-text('Eén uitwisseling')")
    check(page, "audit-exchange", width)
    context.close()


def test_the_export_help_page(server, data, browser, width):
    context, page = open_as(browser, server, width, OFFICER, "/ui/audit")
    page.get_by_role("link", name="Zo controleert u deze export").click()
    page.wait_for_url("**/ui/audit/export/uitleg")
    text = check(page, "audit-export-help", width)
    assert "gateway audit verify" in text and "Exporteren voor Excel" in text
    context.close()


def test_the_subject_report(server, data, browser, width):
    context, page = open_as(browser, server, width, OFFICER, "/ui/audit/subject")
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    check(page, "subject-form", width)
    page.get_by_label("BSN van het kind").fill(ex.BSN)
    page.get_by_role("button", name="Rapport maken").click()
    page.wait_for_selector("table.events")
    text = check(page, "subject-report", width)
    assert "Verzuimmelding" in text and ex.BSN not in text
    assert all(ex.BSN not in url for url in urls)
    context.close()


def test_the_retractions_and_the_breach_register(server, data, browser, width, tmp_path_factory):
    """Issue 19: a retracted message about the wrong child, open, and one confirmed."""
    partners = register_partners(server, tmp_path_factory.mktemp("retracting"))
    school, swv = partners[ex.SCHOOL], partners[ex.SWV]
    sent = [school.send("absence_report", ex.SWV, ex.absence_report(TODAY)).json()["id"]
            for _ in range(2)]
    for exchange_id, reason in zip(sent, ("wrong_child", "incorrect_content"), strict=True):
        answer = requests.post(f"{server.url}/api/v1/exchanges/{exchange_id}/retract",
                               json={"reason": reason, "remarks": "Verkeerde leerling gekozen."},
                               headers=school.headers(), timeout=10)
        assert answer.status_code in (200, 201), answer.text
    confirmed = requests.post(f"{server.url}/api/v1/exchanges/{sent[1]}/retraction/confirm",
                              headers=swv.headers(), timeout=10)
    assert confirmed.status_code == 200, confirmed.text
    context, page = open_as(browser, server, width, OFFICER, "/ui/retractions")
    text = check(page, "retractions", width)
    assert "Bericht over het verkeerde kind" in text and "Onjuiste inhoud" in text
    assert "Aantal betrokken kinderen" in text and "Besluit uiterlijk" in text
    assert ex.BSN not in text
    context.close()
