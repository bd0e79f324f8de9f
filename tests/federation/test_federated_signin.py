"""Federated sign-in against two real SimpleSAMLphp IdPs and a real gateway (issue 21).

The Entree IdP (HTTP-POST, BRIN) is registered by URL: a federation's signed aggregate on the
harness's metadata server, verified with the aggregate's certificate and refreshed every two
seconds (``cacheDuration``). The eHerkenning broker (HTTP-Artifact, encrypted assertions, KvK
number, assurance level) is registered by its metadata file and may vouch only for Leerplicht
Groningen (KvK 12345678): the registry also knows WIJ Groningen with KvK 87654321, for which
this broker may not sign anyone in.
"""

from __future__ import annotations

import base64
import html
import re
import shutil
import time
import zlib
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.e2e.conftest import start_server, stop_server
from tests.federation.gateway import (
    LEERPLICHT,
    SCHOOL_A,
    SCHOOL_B,
    WIJ,
    Federation,
    deliver,
    login_url,
)
from tests.federation.simplesamlphp import (
    flip_one_byte,
    session_keys,
    signed_aggregate,
)

pytestmark = pytest.mark.e2e

AGGREGATE = "/entree-federation.xml"


def entree_entry(federation_cert: str) -> str:
    return f"""
- key: entree
  name: "Entree (scholen)"
  profile: entree
  metadata_url: "{{url}}"
  metadata_signing_cert_file: {federation_cert}
  entity_id: "{{entity_id}}"
  roles: {{privacy_officer: [privacy-officer]}}
"""


@pytest.fixture(scope="module")
def federation(tmp_path_factory, keys_dir, simplesamlphp_idps, metadata_server):
    instance = tmp_path_factory.mktemp("federated-gateway")
    keys = instance / "keys"
    shutil.copytree(keys_dir, keys)
    server = start_server(instance, keys)
    try:
        sp_metadata = requests.get(f"{server.url}/saml/metadata", timeout=30).text
        entree = simplesamlphp_idps.get("entree", sp_metadata, name="gateway")
        eherkenning = simplesamlphp_idps.get("eherkenning", sp_metadata, name="gateway")
        folder = instance / "bootstrap"
        folder.mkdir()
        signer = session_keys("entree federation")
        (folder / "federation.crt").write_bytes(signer.cert_pem)
        aggregate = signed_aggregate(
            [entree.metadata_xml],
            signer.key_pem,
            signer.cert_pem,
            datetime(2030, 1, 1, tzinfo=UTC),
            timedelta(seconds=2),
        )
        url = metadata_server.publish(AGGREGATE, aggregate)
        (folder / "broker.xml").write_text(eherkenning.metadata_xml)
        world = Federation(server, entree, eherkenning, folder)
        world.aggregate = aggregate
        world.entries = [
            entree_entry("federation.crt")
            .replace("{url}", url)
            .replace("{entity_id}", entree.entity_id),
            f"""
- key: eherkenning
  name: "eHerkenning"
  profile: eherkenning
  metadata_file: broker.xml
  binding: artifact
  encrypt_assertions: true
  authn_context: ["urn:etoegang:core:assurance-class:loa3"]
  organisations: ["{LEERPLICHT[0]}"]
  roles: {{privacy_officer: [privacy-officer]}}
""",
        ]
        world.bootstrap(world.entries)
        yield world
    finally:
        stop_server(server.process)


def signed_in(federation, idp: str, username: str, next_path: str = "/ui/"):
    """A browser that signs in as ``username`` at ``idp``; (session, the gateway's answer)."""
    handle = federation.entree if idp.startswith("entree") else federation.eherkenning
    browser = requests.Session()
    result = handle.login(
        browser, login_url(federation.url, idp, next_path), username, f"{username}-pw"
    )
    return browser, result, deliver(browser, result)


def assert_refused_page(answer, words: str) -> None:
    body = answer.text
    assert answer.status_code == 403, body[:800]
    assert 'lang="nl"' in body
    assert words in body, body[:2000]
    assert "gateway_session=" not in answer.headers.get("Set-Cookie", "")


# each IdP signs in its own users -------------------------------------------------------------
def test_an_entree_teacher_signs_in_for_the_school_of_her_brin(federation):
    browser, result, answer = signed_in(federation, "entree", "entree-officer")

    assert answer.status_code == 303, answer.text[:800]
    assert answer.headers["Location"] == "/ui/"
    page = browser.get(f"{federation.url}/ui/", timeout=30)
    assert page.status_code == 200
    assert SCHOOL_A[1] in page.text
    assert SCHOOL_B[1] not in page.text
    rows = federation.query(
        "SELECT org_oin, idp, name_id FROM web_sessions WHERE name_id = 'entree-officer'"
    )
    assert rows == [(SCHOOL_A[0], "entree", "entree-officer")]


def test_the_other_brin_signs_in_for_the_other_school(federation):
    browser, _, answer = signed_in(federation, "entree", "entree-other")

    assert answer.status_code == 303, answer.text[:800]
    page = browser.get(f"{federation.url}/ui/", timeout=30)
    assert SCHOOL_B[1] in page.text and SCHOOL_A[1] not in page.text


def test_an_eherkenning_user_signs_in_by_artifact_with_an_encrypted_assertion(federation):
    browser, result, answer = signed_in(federation, "eherkenning", "kvk-loa3")

    # the front channel carries the artifact only, never an assertion
    assert result.saml_response is None and result.saml_art
    assert "Assertion" not in result.html and "Assertion" not in result.url
    assert result.url.startswith(f"{federation.url}/saml/acs/artifact?")
    assert answer.status_code == 303, answer.text[:800]
    page = browser.get(f"{federation.url}/ui/", timeout=30)
    assert page.status_code == 200
    assert LEERPLICHT[1] in page.text
    rows = federation.query("SELECT org_oin, idp FROM web_sessions WHERE name_id = 'kvk-loa3'")
    assert rows == [(LEERPLICHT[0], "eherkenning")]


# what an IdP may vouch for -----------------------------------------------------------------
def test_an_organisation_the_broker_may_not_vouch_for_is_refused_and_audited(federation):
    before = federation.failures()

    _, _, answer = signed_in(federation, "eherkenning", "kvk-other")

    assert_refused_page(answer, "mag niet namens uw organisatie")
    assert federation.failures() == before + 1
    assert federation.last_failure() == ("saml_idp_not_vouched", WIJ[0], "kvk-other")
    assert federation.query("SELECT count(*) FROM web_sessions WHERE name_id = 'kvk-other'") == [
        (0,)
    ]


def test_a_too_low_assurance_level_is_refused_and_audited(federation):
    before = federation.failures()

    _, _, answer = signed_in(federation, "eherkenning", "kvk-loa2")

    assert_refused_page(answer, "te laag betrouwbaarheidsniveau")
    assert federation.failures() == before + 1
    assert federation.last_failure()[0] == "saml_assurance_too_low"


def test_a_user_of_one_idp_cannot_reach_another_organisations_pages(federation):
    browser, _, answer = signed_in(federation, "eherkenning", "kvk-loa3")
    assert answer.status_code == 303

    dashboard = browser.get(f"{federation.url}/ui/", timeout=30)
    operator_page = browser.get(f"{federation.url}/ui/reidentifications", timeout=30)
    admin_page = browser.get(f"{federation.url}/ui/organisations", timeout=30)

    assert LEERPLICHT[1] in dashboard.text and SCHOOL_A[1] not in dashboard.text
    assert operator_page.status_code == 403
    assert admin_page.status_code == 403


# encryption --------------------------------------------------------------------------------
def test_a_plaintext_assertion_from_an_idp_configured_to_encrypt_is_refused(federation):
    before = federation.sessions("eherkenning")
    federation.eherkenning.configure(encrypt_assertion=False)
    try:
        _, _, answer = signed_in(federation, "eherkenning", "kvk-loa3")
    finally:
        federation.eherkenning.configure(encrypt_assertion=True)

    assert answer.status_code == 403, answer.text[:800]
    assert "geweigerd" in answer.text
    assert "<code>saml_not_encrypted</code>" in answer.text
    assert federation.sessions("eherkenning") == before


def test_an_artifact_idps_response_posted_to_the_post_acs_is_refused(federation):
    """The artifact binding is the only way in for the broker: a response posted directly
    (as an attacker replaying one would) is refused before it is read."""
    browser = requests.Session()
    location = browser.get(login_url(federation.url, "eherkenning"), allow_redirects=False)
    assert location.status_code == 302
    answer = browser.post(
        f"{federation.url}/saml/acs", data={"SAMLResponse": "PHNhbWxwOlJlc3BvbnNlLz4="}
    )
    assert answer.status_code in (400, 403)


# discovery ---------------------------------------------------------------------------------
def test_the_discovery_page_lists_the_idps_and_remembers_the_last_choice(federation):
    browser = requests.Session()
    first = browser.get(f"{federation.url}/login?next=/ui/", allow_redirects=False, timeout=30)

    assert first.status_code == 200
    assert "Kies uw organisatie of inlogmiddel" in first.text
    assert "Entree (scholen)" in first.text and "eHerkenning" in first.text
    assert "vorige keuze" not in first.text

    chosen = browser.get(login_url(federation.url, "eherkenning"), allow_redirects=False)
    assert chosen.status_code == 302
    assert chosen.headers["Location"].startswith(federation.eherkenning.sso_url)

    again = browser.get(f"{federation.url}/login?next=/ui/", allow_redirects=False, timeout=30)
    assert "vorige keuze" in again.text
    assert again.text.index("eHerkenning") < again.text.index("Entree (scholen)")


def test_an_unknown_idp_is_refused_in_dutch(federation):
    answer = requests.get(login_url(federation.url, "onbekend"), allow_redirects=False, timeout=30)
    assert answer.status_code == 503
    assert "kan op dit moment niet" in answer.text


def test_an_idp_initiated_login_is_still_refused(federation):
    before = federation.sessions("entree")
    browser = requests.Session()
    result = federation.entree.login(
        browser,
        federation.entree.idp_initiated_url(federation.sp_entity_id, "/ui/"),
        "entree-officer",
        "entree-officer-pw",
    )
    answer = deliver(browser, result)
    assert answer.status_code in (400, 403)
    assert "geweigerd" in answer.text
    assert federation.sessions("entree") == before


# metadata ----------------------------------------------------------------------------------
def wait_for(condition, timeout: float = 30.0, interval: float = 0.3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out waiting")


def test_a_broken_aggregate_signature_is_refused_and_the_last_good_copy_stays(
    federation, metadata_server
):
    good_copy = federation.query("SELECT metadata_xml FROM saml_idps WHERE key = 'entree'")[0][0]
    assert good_copy and federation.entree.entity_id in good_copy
    broken = flip_one_byte(federation.aggregate)
    assert sum(a != b for a, b in zip(broken, federation.aggregate, strict=True)) == 1
    metadata_server.publish(AGGREGATE, broken)
    hits = metadata_server.hits(AGGREGATE)
    try:
        requests.get(f"{federation.url}/login", timeout=30)  # wakes the refresher
        wait_for(lambda: metadata_server.hits(AGGREGATE) > hits)
        error = wait_for(
            lambda: federation.query("SELECT metadata_error FROM saml_idps WHERE key = 'entree'")[
                0
            ][0]
        )
        assert "signature" in error
        assert federation.query("SELECT metadata_xml FROM saml_idps WHERE key = 'entree'") == [
            (good_copy,)
        ]
        browser, _, answer = signed_in(federation, "entree", "entree-officer")
        assert answer.status_code == 303, answer.text[:800]
    finally:
        metadata_server.publish(AGGREGATE, federation.aggregate)


def test_an_expired_valid_until_stops_that_idp(federation, simplesamlphp_idps, tmp_path):
    signer = session_keys("short federation")
    (federation.folder / "short.crt").write_bytes(signer.cert_pem)
    expires = datetime.now(UTC) + timedelta(seconds=20)
    (federation.folder / "short.xml").write_bytes(
        signed_aggregate(
            [federation.entree.metadata_xml],
            signer.key_pem,
            signer.cert_pem,
            expires,
            timedelta(hours=1),
        )
    )
    short = f"""
- key: entree-kort
  name: "Entree (kort geldig)"
  profile: entree
  metadata_file: short.xml
  metadata_signing_cert_file: short.crt
  entity_id: "{federation.entree.entity_id}"
"""
    federation.bootstrap([*federation.entries, short])
    try:
        browser = requests.Session()
        result = federation.entree.login(
            browser,
            login_url(federation.url, "entree-kort"),
            "entree-officer",
            "entree-officer-pw",
        )
        assert deliver(browser, result).status_code == 303
        assert federation.sessions("entree-kort") >= 1

        time.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 1)

        stopped = requests.get(login_url(federation.url, "entree-kort"), allow_redirects=False)
        assert stopped.status_code == 503
        assert "kan op dit moment niet" in stopped.text
        discovery = requests.get(f"{federation.url}/login", timeout=30)
        assert "Entree (kort geldig)" not in discovery.text
        assert "Entree (scholen)" in discovery.text
    finally:
        federation.bootstrap(federation.entries)


# suspension --------------------------------------------------------------------------------
def test_suspending_an_idp_ends_its_sessions_and_only_its(federation):
    school, _, answer = signed_in(federation, "entree", "entree-officer")
    assert answer.status_code == 303
    office, _, answer = signed_in(federation, "eherkenning", "kvk-loa3")
    assert answer.status_code == 303
    suspended = [federation.entries[0] + "  status: suspended\n", federation.entries[1]]

    federation.bootstrap(suspended)
    try:
        assert federation.sessions("entree") == 0
        assert school.get(f"{federation.url}/ui/", allow_redirects=False).status_code == 302
        assert office.get(f"{federation.url}/ui/", allow_redirects=False).status_code == 200
        refused = requests.get(login_url(federation.url, "entree"), allow_redirects=False)
        assert refused.status_code == 503
        events = federation.query(
            "SELECT count(*) FROM audit_events WHERE action = 'admin.idp.update'"
        )
        assert events[0][0] >= 1
    finally:
        federation.bootstrap(federation.entries)


# single logout -----------------------------------------------------------------------------
def test_logout_goes_to_the_idp_that_signed_the_person_in_and_comes_back(federation):
    browser, _, answer = signed_in(federation, "entree", "entree-officer")
    assert answer.status_code == 303
    form = browser.get(f"{federation.url}/logout", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)

    page = browser.post(f"{federation.url}/logout", data={"csrf_token": token}, timeout=30)

    link = html.unescape(re.search(r'<a href="([^"]+)" data-autofollow', page.text).group(1))
    assert link.startswith(federation.entree.slo_url + "?SAMLRequest=")
    assert "Signature=" in link
    assert browser.get(f"{federation.url}/ui/", allow_redirects=False).status_code == 302
    location = link
    for _ in range(10):  # SimpleSAMLphp passes through its own pages first
        back = browser.get(location, allow_redirects=False, timeout=30)
        assert back.status_code in (302, 303), back.text[:500]
        location = back.headers["Location"]
        if location.startswith(federation.url):
            break
    assert location.startswith(f"{federation.url}/saml/slo?SAMLResponse=")
    pending = "SELECT idp FROM saml_requests WHERE kind = 'logout'"
    assert federation.query(pending) == [("entree",)]
    done = browser.get(location, allow_redirects=False, timeout=30)
    assert federation.query(pending) == []  # the IdP's signed answer was accepted
    assert done.status_code == 200
    assert "uitgelogd" in done.text


# what the gateway asks for -----------------------------------------------------------------
def authn_request(location: str) -> str:
    query = parse_qs(urlparse(location).query)
    assert query["SigAlg"] == ["http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"]
    assert query["Signature"][0]  # signed AuthnRequests (the IdPs refuse unsigned ones)
    return zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15).decode()


def test_each_idp_gets_a_signed_request_with_its_binding_and_assurance_level(federation):
    broker = requests.get(login_url(federation.url, "eherkenning"), allow_redirects=False)
    school = requests.get(login_url(federation.url, "entree"), allow_redirects=False)

    to_broker = authn_request(broker.headers["Location"])
    to_school = authn_request(school.headers["Location"])

    assert 'ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact"' in to_broker
    assert f'AssertionConsumerServiceURL="{federation.url}/saml/acs/artifact"' in to_broker
    assert 'Comparison="minimum"' in to_broker
    assert "urn:etoegang:core:assurance-class:loa3</" in to_broker
    assert 'ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"' in to_school
    assert f'AssertionConsumerServiceURL="{federation.url}/saml/acs"' in to_school
    assert "RequestedAuthnContext" not in to_school
