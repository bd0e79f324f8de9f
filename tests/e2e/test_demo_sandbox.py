"""The sandbox of ``make run``: the shipped demo bootstrap file and ``gateway demo traffic``
against a real server, checked over the API and on the web pages a newcomer opens."""

import json
import re
import shutil
from html import unescape
from pathlib import Path

import pytest
import requests
from joserfc.jwk import ECKey

from tests.e2e.conftest import start_server, stop_server
from tests.e2e.devidp_browser import TIMEOUT, figure, forms_of, sign_in, text_of
from tests.e2e.partners import Partner

REPO = Path(__file__).resolve().parents[2]
SCHOOL, GGD = "00000001001234567000", "00000001003456789000"
GGD_NAME = "GGD Groningen Jeugdgezondheidszorg"
DEMO_BSN = "111222333"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory, keys_dir):
    root = tmp_path_factory.mktemp("sandbox")
    (root / "deploy").mkdir()
    shutil.copy(REPO / "deploy" / "demo-bootstrap.yaml", root / "deploy")
    instance = root / "instance"
    instance.mkdir()
    shutil.copytree(keys_dir, instance / "keys")
    server = start_server(instance, instance / "keys")
    yield server, root
    stop_server(server.process)


def demo_partner(server, root: Path, oin: str, kind: str, client_id: str) -> Partner:
    private = json.loads((root / "instance" / "demo" / f"{client_id}.private.jwk.json").read_text())
    return Partner(oin, kind, client_id, ECKey.import_key(private), server.url)


def consent_statuses(school: Partner) -> dict[str, list[str]]:
    """The school's consents for the demo child, by purpose: what it finds over the API."""
    answer = requests.post(
        f"{school.base_url}/api/v1/consents/search",
        json={"subject": {"bsn": DEMO_BSN}, "limit": 100},
        headers=school.headers(),
        timeout=20,
    )
    assert answer.status_code == 200, answer.text
    found: dict[str, list[str]] = {}
    for consent in answer.json()["items"]:
        found.setdefault(consent["purpose"], []).append(consent["status"])
    return found


def pending_requests(page: str) -> int:
    """Requests on /ui/reidentifications waiting for a decision (one article each)."""
    return text_of(page).count(f"Verzoek van {GGD_NAME}")


PACT_SUMMARY = (
    "pact: 1 consultation(s), 1 exemption advice case(s), 1 escalation(s) fired and 1 closed"
)


def inzage(browser: requests.Session, base_url: str, bsn: str) -> str:
    """The operator's inzage answer for ``bsn``, asked through the page's own form."""
    page = browser.get(base_url + "/ui/audit/subject", timeout=TIMEOUT)
    assert page.status_code == 200
    form = next(f for f in forms_of(page.text) if "Rapport maken" in f["buttons"])
    answer = browser.post(
        base_url + form["action"], data={**form["fields"], "bsn": bsn}, timeout=TIMEOUT
    )
    assert answer.status_code == 200, answer.text[:2000]
    return answer.text


def processes_of(html: str) -> list[tuple[str, str]]:
    """(title, text) of each block under "Processen rond dit kind"."""
    found = re.findall(
        r'<article class="inzage-process">\s*<h3>(.*?)</h3>(.*?)</article>', html, re.S
    )
    return [(unescape(title), text_of(body)) for title, body in found]


def test_demo_bootstrap_and_traffic_fill_every_page(sandbox):
    server, root = sandbox
    server.cli("demo", "keys", "--out", str(root / "instance" / "demo"))
    first = server.cli("bootstrap", str(root / "deploy" / "demo-bootstrap.yaml")).stdout
    assert "created 13" in first  # 12 organisations and clients, and the region groningen
    again = server.cli("bootstrap", str(root / "deploy" / "demo-bootstrap.yaml")).stdout
    assert "created 0, updated 0, removed 0, unchanged 13" in again

    output = server.cli("demo", "traffic", "--keys", str(root / "instance" / "demo")).stdout
    assert output.strip().splitlines()[-2:] == [
        "5 exchange(s) accepted, 1 refused; 1 re-identification request(s) pending; "
        "1 consent(s) withdrawn",
        PACT_SUMMARY,
    ]
    assert "inbox leerplicht-groningen: absence_report subject={'bsn': '111222333'}" in output
    assert "inbox swv-groningen: absence_report subject={'pseudonym':" in output
    assert "birth_year" in output and "inbox wij-cases: support_request" in output
    assert len(output.splitlines()) <= 25, output  # short enough to read at a glance

    # over the API, as the school sees its consents: the MAZL one withdrawn, support active
    school = demo_partner(server, root, SCHOOL, "school", "regenboog-sis")
    assert consent_statuses(school) == {
        "support": ["active"],
        "mazl": ["withdrawn"],
        "case_consultation": ["active"],  # the parents' consent for the consultation
    }

    # on the pages, as the operator's privacy officer sees them
    browser, dashboard = sign_in(server.url, "Petra de Vries")
    # the 5 sends of the demo routes, and the pact's 20 messages: the consultation's 4
    # invitations, 4 answers (3 accepted, 1 declined) and 3 agreements to those who accepted;
    # the exemption's 2 advice requests and 2 answers; the escalation's 2 homebound reports
    # (at home, placed), the escalation to the holder and to the reporter, and the closing
    assert figure(dashboard.text, "uitwisselingen toegestaan") == 25
    assert figure(dashboard.text, "uitwisselingen geweigerd") == 1
    pact = text_of(dashboard.text)
    for phrase in (
        "Casusoverleggen per maand",
        "Verzoeken om vrijstelling naar medisch advies",
        "Escalaties per maand",
        "Tijd tot plaatsing",
    ):
        assert phrase in pact
    assert figure(dashboard.text, "verzoek om herleiding wacht") == 1
    requests_page = browser.get(server.url + "/ui/reidentifications", timeout=20)
    assert requests_page.status_code == 200
    assert pending_requests(requests_page.text) == 1
    assert "Wet publieke gezondheid" in requests_page.text

    # the inzage answer for the demo child tells the three processes
    processes = processes_of(inzage(browser, server.url, DEMO_BSN))
    assert [title for title, _ in processes] == [
        "Casusoverleg",
        "Advies vrijstelling (art. 5 onder a Leerplichtwet)",
        "Escalatie (doorzettingsmacht)",
    ]


def test_demo_traffic_runs_again_and_adds_the_same_story(sandbox):
    """A second run may add traffic but must not fail: its own consents, inbox items and
    request, whatever the first run left (run after the test above, on the same sandbox)."""
    server, root = sandbox
    keys = str(root / "instance" / "demo")
    if not (root / "instance" / "demo").exists():
        server.cli("demo", "keys", "--out", keys)
        server.cli("bootstrap", str(root / "deploy" / "demo-bootstrap.yaml"))
        server.cli("demo", "traffic", "--keys", keys)
    output = server.cli("demo", "traffic", "--keys", keys).stdout
    assert output.strip().splitlines()[-2:] == [
        "5 exchange(s) accepted, 1 refused; 1 re-identification request(s) pending; "
        "1 consent(s) withdrawn",
        # the same homebound period escalates once: the second run's report of it fires none
        "pact: 1 consultation(s), 1 exemption advice case(s), 0 escalation(s) fired and 0 closed",
    ]
    assert output.count("inbox ") == 5  # only this run's items, not the first run's again

    school = demo_partner(server, root, SCHOOL, "school", "regenboog-sis")
    statuses = consent_statuses(school)
    assert sorted(statuses["mazl"]) == ["withdrawn", "withdrawn"]
    assert sorted(statuses["support"]) == ["active", "superseded"]
    assert sorted(statuses["case_consultation"]) == ["active", "superseded"]
    browser, _ = sign_in(server.url, "Petra de Vries")
    page = browser.get(server.url + "/ui/reidentifications", timeout=20).text
    assert pending_requests(page) == 2
