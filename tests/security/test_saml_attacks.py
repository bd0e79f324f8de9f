"""The SAML attack corpus (API.md section 10, issue 8) against the real service provider.

A real pysaml2 IdP (``tests/saml_helpers.TestIdp``) answers the gateway's real AuthnRequests
with responses signed by xmlsec1. Each attack must end in a 400 or 403 Dutch error page with
no session (no cookie, no row), counted in ``gateway_auth_failures_total{method="saml"}`` and
with no audit event: a refused response identifies no one (API.md section 13 rule 4; before
v1.1 each refusal was an ``auth.failure`` event, which let anyone grow the log). Two control
tests show
that an honest response logs in, also after the same XML round trip the attacks use, so
no refusal below passes merely because the test tooling broke a signature.

Every test runs on three paths (issue 21): ``post`` (the ``saml:`` block's IdP, HTTP-POST,
plaintext), ``encrypted`` (a registered IdP configured to encrypt: the attack's assertion is
encrypted for the SP before it is posted) and ``artifact`` (a registered artifact IdP that
encrypts: the browser brings only ``SAMLart`` and the attack's response comes back, inside an
``ArtifactResponse`` signed by the IdP, to the gateway's signed ``ArtifactResolve``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from prometheus_client import REGISTRY
from saml2.xmldsig import DIGEST_SHA1, SIG_RSA_SHA1
from sqlalchemy import func, select

from gateway.audit.models import AuditEventRow
from gateway.saml import binding
from gateway.web.models import WebSessionRow
from tests import saml_helpers
from tests.federation.paths import BackChannel, artifact, encrypt_assertion
from tests.limits import FLOOD_LIMIT
from tests.saml_helpers import (
    DS,
    OPERATOR_OFFICER,
    SAML,
    SAMLP,
    Document,
    Person,
    TestIdp,
    apply_file,
    bootstrap_file,
    forget_logins,
    migrated_sqlite,
    session_cookie,
)

LOGIN_COOKIE = "gateway_saml_login"  # development over http: no __Host- prefix
EVIL = Person("attacker@evil.test", ("privacy-officer",), OPERATOR_OFFICER.org, "Eve")


@pytest.fixture(scope="module")
def idp(tmp_path_factory) -> TestIdp:
    return TestIdp(tmp_path_factory.mktemp("idp"))


PATHS = ("post", "encrypted", "artifact")
ARTIFACT_RESOLUTION = (
    '<md:ArtifactResolutionService xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
    'Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" '
    'Location="https://idp.test.example/ars" index="0"/>'
)


def registered_idp_block(binding: str) -> str:
    """The ``saml.idps`` entry of the test IdP configured to encrypt (``oin`` profile)."""
    return (
        "saml:\n  idps:\n    - key: test\n      name: Test-IdP\n      profile: oin\n"
        "      metadata_file: idp.xml\n      encrypt_assertions: true\n"
        f"      binding: {binding}\n"
    )


@pytest.fixture(scope="module", params=PATHS)
def sp_app(request, idp, keys_dir, tmp_path_factory):
    """One gateway per path for the module (a pysaml2 client is costly to build), with the
    test IdP configured through the bootstrap file's saml block (``post``) or its ``idps``
    list (``encrypted``, ``artifact``), on its own database."""
    from gateway import create_app
    from gateway.config import Settings

    path = request.param
    folder = tmp_path_factory.mktemp(f"saml-sp-{path}")
    url = migrated_sqlite(folder)
    if path == "post":
        apply_file(url, bootstrap_file(folder, idp.metadata()))
    else:
        metadata = idp.metadata()
        if path == "artifact":
            descriptor = metadata.index(">", metadata.index("IDPSSODescriptor")) + 1
            metadata = metadata[:descriptor] + ARTIFACT_RESOLUTION + metadata[descriptor:]
        file = bootstrap_file(folder, None)
        (folder / "idp.xml").write_text(metadata)
        binding_name = "artifact" if path == "artifact" else "post"
        file.write_text(file.read_text() + registered_idp_block(binding_name))
        apply_file(url, file)
    # one app for the module's many attacks from one address: the per-address limit raised
    app = create_app(Settings(env="development", database_url=url, keys_dir=keys_dir,
                              rate_limit_address=FLOOD_LIMIT))
    app.config["TESTING"] = True
    app.config["SAML_PATH"] = path
    if path == "artifact":
        channel = BackChannel(TestIdp.ENTITY_ID, idp.key_file.read_bytes(),
                              idp.cert_file.read_bytes())
        app.extensions["gateway"].saml.artifact_transport = channel
        app.config["BACK_CHANNEL"] = channel
    idp.bind(app.test_client().get("/saml/metadata").get_data(as_text=True))
    yield app
    app.extensions["gateway"].db.dispose()


def sp_flow_start(client, next_path: str | None = None) -> str:
    """GET /login (naming the registered IdP on the other paths); the IdP URL."""
    query = {"next": next_path} if next_path else {}
    if client.application.config["SAML_PATH"] != "post":
        query["idp"] = "test"
    response = client.get("/login" + (f"?{urlencode(query)}" if query else ""))
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def post_response(client, xml: str, relay_state: str | None = "/ui/"):
    """Deliver ``xml`` as the path's IdP would: posted, encrypted and posted, or encrypted
    behind an artifact that the gateway resolves over the (stand-in) back channel."""
    app = client.application
    path = app.config["SAML_PATH"]
    if path == "post":
        return saml_helpers.post_response(client, xml, relay_state)
    cert = (app.extensions["gateway"].settings.keys_dir / "saml" / "encryption.crt").read_bytes()
    encrypted = encrypt_assertion(xml, cert)
    if path == "encrypted":
        return saml_helpers.post_response(client, encrypted, relay_state)
    app.config["BACK_CHANNEL"].pending = encrypted
    query = {"SAMLart": artifact(TestIdp.ENTITY_ID)}
    if relay_state is not None:
        query["RelayState"] = relay_state
    return client.get(f"/saml/acs/artifact?{urlencode(query)}")


@pytest.fixture
def sp(sp_app):
    """A fresh browser (test client) and no sessions or outstanding requests left over."""
    forget_logins(sp_app)
    sp_app.config["SAML_COUNTED_BEFORE"] = saml_failures_counted()
    yield sp_app, sp_app.test_client()


def saml_failures_counted() -> float:
    """``gateway_auth_failures_total{method="saml"}`` over every error code, in this process."""
    return sum(
        sample.value
        for family in REGISTRY.collect()
        if family.name == "gateway_auth_failures"
        for sample in family.samples
        if sample.name == "gateway_auth_failures_total" and sample.labels["method"] == "saml"
    )


def request_for(client, idp):
    return idp.read_request(sp_flow_start(client))


def sessions(app) -> int:
    with app.extensions["gateway"].db.session() as session:
        return session.scalar(select(func.count()).select_from(WebSessionRow))


def failures(app) -> int:
    with app.extensions["gateway"].db.session() as session:
        return session.scalar(
            select(func.count()).select_from(AuditEventRow).where(
                AuditEventRow.action == "auth.failure")
        )


def assert_refused(app, response, statuses=(400, 403)):
    before = app.config["FAILURES_BEFORE"]
    body = response.get_data(as_text=True)
    assert response.status_code in statuses, body[:500]
    assert "text/html" in response.content_type
    assert 'lang="nl"' in body and "geweigerd" in body.lower() or "ongeldig" in body.lower()
    assert session_cookie(response) is None
    assert sessions(app) == 0
    assert failures(app) == before, "a refused response identifies no one: no audit event"
    assert saml_failures_counted() == app.config["SAML_COUNTED_BEFORE"] + 1


# controls ------------------------------------------------------------------------------------
def test_an_honest_response_logs_in(sp, idp):
    app, client = sp
    response = post_response(client, idp.respond(request_for(client, idp)))
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.headers["Location"] == "/ui/"
    assert session_cookie(response)
    assert client.get("/ui/").status_code == 200


def test_the_xml_round_trip_of_the_attacks_keeps_a_valid_response_valid(sp, idp):
    app, client = sp
    signed = idp.respond(request_for(client, idp))
    response = post_response(client, Document(signed).xml())
    assert response.status_code == 303
    assert sessions(app) == 1


# signature wrapping (XSW1-XSW8) --------------------------------------------------------------
def _evil_assertion(doc: Document, element, new_id: str | None = "id-evil", keep_sig=False):
    clone = element.cloneNode(True)
    if new_id:
        clone.setAttribute("ID", new_id)
    if not keep_sig:
        signature = doc.signature_of(clone)
        if signature is not None:
            clone.removeChild(signature)
    doc.set_text(doc.first(SAML, "NameID", clone), EVIL.name_id)
    return clone


def xsw1(doc: Document) -> Document:
    """Evil unsigned Response at the root; the original signed Response inside its Signature."""
    original = doc.response
    evil = original.cloneNode(True)
    evil.setAttribute("ID", "id-evil-response")
    signature = doc.signature_of(evil)
    evil_assertion = doc.child(evil, SAML, "Assertion")
    evil.replaceChild(_evil_assertion(doc, evil_assertion), evil_assertion)
    signature.appendChild(original.cloneNode(True))
    doc.dom.replaceChild(evil, original)
    return doc


def xsw2(doc: Document) -> Document:
    """As XSW1, but the original Response sits beside (before) the Signature."""
    original = doc.response
    evil = original.cloneNode(True)
    evil.setAttribute("ID", "id-evil-response")
    signature = doc.signature_of(evil)
    evil_assertion = doc.child(evil, SAML, "Assertion")
    evil.replaceChild(_evil_assertion(doc, evil_assertion), evil_assertion)
    evil.insertBefore(original.cloneNode(True), signature)
    doc.dom.replaceChild(evil, original)
    return doc


def xsw3(doc: Document) -> Document:
    """An evil unsigned Assertion inserted before the signed one."""
    doc.response.insertBefore(_evil_assertion(doc, doc.assertion), doc.assertion)
    return doc


def xsw4(doc: Document) -> Document:
    """The signed Assertion wrapped inside an evil one."""
    original = doc.assertion
    evil = _evil_assertion(doc, original)
    doc.response.replaceChild(evil, original)
    evil.appendChild(original)
    return doc


def xsw5(doc: Document) -> Document:
    """The signed Assertion changed in place; an unsigned copy of the original appended."""
    original = doc.assertion
    copy = original.cloneNode(True)
    copy.removeChild(doc.signature_of(copy))
    doc.set_text(doc.first(SAML, "NameID", original), EVIL.name_id)
    doc.response.appendChild(copy)
    return doc


def xsw6(doc: Document) -> Document:
    """The Assertion changed in place; the original copied inside its Signature."""
    original = doc.assertion
    copy = original.cloneNode(True)
    copy.removeChild(doc.signature_of(copy))
    doc.signature_of(original).appendChild(copy)
    doc.set_text(doc.first(SAML, "NameID", original), EVIL.name_id)
    return doc


def xsw7(doc: Document) -> Document:
    """The original signed Assertion hidden in an Extensions element; an evil copy in place."""
    original = doc.assertion
    extensions = doc.dom.createElementNS(SAMLP, "ns0:Extensions")
    evil = _evil_assertion(doc, original, new_id=None)
    doc.response.replaceChild(evil, original)
    extensions.appendChild(original)
    doc.response.insertBefore(extensions, evil)
    return doc


def xsw8(doc: Document) -> Document:
    """The evil Assertion keeps the Signature, which carries the original in a ds:Object."""
    original = doc.assertion
    evil = _evil_assertion(doc, original, new_id=None, keep_sig=True)
    copy = original.cloneNode(True)
    copy.removeChild(doc.signature_of(copy))
    wrapper = doc.dom.createElementNS(DS, "ds:Object")
    wrapper.setAttribute("xmlns:ds", DS)
    wrapper.appendChild(copy)
    doc.signature_of(evil).appendChild(wrapper)
    doc.response.replaceChild(evil, original)
    return doc


@pytest.mark.parametrize("wrap", [xsw1, xsw2, xsw3, xsw4, xsw5, xsw6, xsw7, xsw8],
                         ids=lambda f: f.__name__.upper())
def test_signature_wrapping_is_refused(sp, idp, wrap):
    app, client = sp
    doc = wrap(Document(idp.respond(request_for(client, idp))))
    assert EVIL.name_id in doc.xml()
    assert_refused(app, post_response(client, doc.xml()))


# signatures ----------------------------------------------------------------------------------
def test_a_removed_assertion_signature_is_refused(sp, idp):
    app, client = sp
    xml = idp.respond(request_for(client, idp), sign_response=False)
    doc = Document(xml)
    doc.assertion.removeChild(doc.signature_of(doc.assertion))
    assert_refused(app, post_response(client, doc.xml()))


def test_a_response_signed_only_on_the_outside_is_refused(sp, idp):
    app, client = sp
    xml = idp.respond(request_for(client, idp), sign_assertion=False, sign_response=True)
    assert_refused(app, post_response(client, xml))


def test_an_assertion_signed_by_another_key_is_refused(sp, idp):
    app, client = sp
    xml = idp.respond(request_for(client, idp), key_file=idp.other_key_file)
    assert_refused(app, post_response(client, xml))


def test_a_sha1_signature_is_refused(sp, idp):
    app, client = sp
    xml = idp.respond(request_for(client, idp), sign_alg=SIG_RSA_SHA1, digest_alg=DIGEST_SHA1)
    assert "rsa-sha1" in xml
    assert_refused(app, post_response(client, xml))


# parsing -------------------------------------------------------------------------------------
def test_comment_injection_in_the_name_id_is_refused(sp, idp):
    app, client = sp
    person = Person("officer@beheer.test.evil.example", ("privacy-officer",),
                    OPERATOR_OFFICER.org)
    xml = idp.respond(request_for(client, idp), person)
    injected = xml.replace("officer@beheer.test.evil.example",
                           "officer@beheer.test<!---->.evil.example")
    assert injected != xml
    assert_refused(app, post_response(client, injected))


def test_an_external_entity_is_refused(sp, idp):
    app, client = sp
    xml = idp.respond(request_for(client, idp))
    doctype = '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    attacked = doctype + xml.replace(OPERATOR_OFFICER.name_id, "&xxe;")
    response = post_response(client, attacked)
    assert_refused(app, response, statuses=(400,))
    assert "root:" not in response.get_data(as_text=True)


def test_entity_expansion_is_refused(sp, idp):
    app, client = sp
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        f'<samlp:Response xmlns:samlp="{SAMLP}">&lol3;</samlp:Response>'
    )
    assert_refused(app, post_response(client, bomb), statuses=(400,))


def test_garbage_is_refused_without_a_crash(sp):
    app, client = sp
    response = client.post("/saml/acs", data={"SAMLResponse": "not base64 !!"})
    assert_refused(app, response, statuses=(400,))


# replay and binding to our request -----------------------------------------------------------
def copy_login_cookie(source, target) -> None:
    """Give ``target`` the login binding cookie of ``source`` (a thief holding both the
    response and the cookie), so that the defence under test is not the browser binding
    (tests/security/test_saml_login_csrf.py)."""
    cookie = source.get_cookie(LOGIN_COOKIE)
    assert cookie is not None
    target.set_cookie(LOGIN_COOKIE, cookie.value)


def test_a_replayed_response_is_refused(sp, idp):
    app, client = sp
    xml = idp.respond(request_for(client, idp))
    other = app.test_client()
    copy_login_cookie(client, other)
    assert post_response(client, xml).status_code == 303
    assert_refused_after_login(app, post_response(other, xml))


def assert_refused_after_login(app, response):
    assert response.status_code in (400, 403)
    assert session_cookie(response) is None
    assert sessions(app) == 1


def test_a_reused_assertion_id_is_refused(sp, idp):
    """Two requests outstanding; the IdP (or a thief of its key's output) answers the second
    with an assertion whose ID was already used: the replay cache refuses it."""
    app, client = sp
    second_browser = app.test_client()
    first, second = request_for(client, idp), request_for(second_browser, idp)
    honest = idp.respond(first)
    used = Document(honest).assertion_id
    assert post_response(client, honest).status_code == 303

    def same_id(doc: Document) -> None:
        doc.assertion.setAttribute("ID", used)

    replay = idp.respond(second, change=same_id)
    assert Document(replay).assertion_id == used
    assert_refused_after_login(app, post_response(second_browser, replay))


def test_an_in_response_to_of_no_request_of_ours_is_refused(sp, idp, caplog):
    """The browser's login cookie matches the response (so the browser binding passes), but
    no such request is outstanding: the request store refuses it."""
    caplog.set_level(logging.WARNING)
    app, client = sp
    request = request_for(client, idp)
    value = binding.new_value()
    client.set_cookie(LOGIN_COOKIE, value)
    not_ours = binding.request_id(value)

    def other_request(doc: Document) -> None:
        doc.response.setAttribute("InResponseTo", not_ours)
        for data in doc.all(SAML, "SubjectConfirmationData"):
            data.setAttribute("InResponseTo", not_ours)

    assert_refused(app, post_response(client, idp.respond(request, change=other_request)))
    codes = [getattr(r, "code", None) for r in caplog.records if r.message == "saml refused"]
    assert codes == ["saml_unknown_request"]


def test_an_unsolicited_response_is_refused(sp, idp):
    app, client = sp
    request = request_for(client, idp)

    def unsolicited(doc: Document) -> None:
        doc.response.removeAttribute("InResponseTo")
        for data in doc.all(SAML, "SubjectConfirmationData"):
            data.removeAttribute("InResponseTo")

    assert_refused(app, post_response(client, idp.respond(request, change=unsolicited)))


# audience, recipient, destination, issuer ----------------------------------------------------
def test_a_wrong_audience_is_refused(sp, idp):
    app, client = sp

    def audience(doc: Document) -> None:
        doc.set_text(doc.first(SAML, "Audience"), "https://other-sp.example/metadata")

    assert_refused(app, post_response(client, idp.respond(request_for(client, idp),
                                                            change=audience)))


def test_a_missing_audience_restriction_is_refused(sp, idp):
    app, client = sp

    def no_audience(doc: Document) -> None:
        restriction = doc.first(SAML, "AudienceRestriction")
        restriction.parentNode.removeChild(restriction)

    assert_refused(app, post_response(client, idp.respond(request_for(client, idp),
                                                            change=no_audience)))


def test_a_wrong_recipient_is_refused(sp, idp):
    app, client = sp

    def recipient(doc: Document) -> None:
        for data in doc.all(SAML, "SubjectConfirmationData"):
            data.setAttribute("Recipient", "https://other-sp.example/acs")

    assert_refused(app, post_response(client, idp.respond(request_for(client, idp),
                                                            change=recipient)))


@pytest.mark.parametrize("destination", ["https://other-sp.example/acs", None])
def test_a_wrong_or_missing_destination_is_refused(sp, idp, destination):
    app, client = sp

    def change(doc: Document) -> None:
        if destination is None:
            doc.response.removeAttribute("Destination")
        else:
            doc.response.setAttribute("Destination", destination)

    assert_refused(app, post_response(client, idp.respond(request_for(client, idp),
                                                            change=change)))


def test_another_issuer_is_refused(sp, idp):
    app, client = sp

    def issuer(doc: Document) -> None:
        for element in doc.all(SAML, "Issuer"):
            doc.set_text(element, "https://evil-idp.example/metadata")

    assert_refused(app, post_response(client, idp.respond(request_for(client, idp),
                                                            change=issuer)))


# time ----------------------------------------------------------------------------------------
def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def shifted(not_on_or_after: timedelta, not_before: timedelta | None = None):
    """Set every NotOnOrAfter (and NotBefore) relative to now, before signing."""
    now = datetime.now(UTC)

    def change(doc: Document) -> None:
        for element in doc.all(SAML, "SubjectConfirmationData") + doc.all(SAML, "Conditions"):
            element.setAttribute("NotOnOrAfter", _stamp(now + not_on_or_after))
            if not_before is not None:
                element.setAttribute("NotBefore", _stamp(now + not_before))
            elif element.hasAttribute("NotBefore"):
                element.setAttribute("NotBefore", _stamp(now - timedelta(minutes=10)))

    return change


def test_an_expired_assertion_is_refused(sp, idp):
    app, client = sp
    xml = idp.respond(request_for(client, idp), change=shifted(timedelta(minutes=-5)))
    assert_refused(app, post_response(client, xml))


def test_an_assertion_expired_beyond_the_60_second_skew_is_refused(sp, idp):
    app, client = sp
    xml = idp.respond(request_for(client, idp), change=shifted(timedelta(seconds=-90)))
    assert_refused(app, post_response(client, xml))


def test_an_assertion_just_expired_within_the_skew_is_accepted(sp, idp):
    app, client = sp
    xml = idp.respond(request_for(client, idp), change=shifted(timedelta(seconds=-20)))
    assert post_response(client, xml).status_code == 303


def test_an_assertion_not_yet_valid_is_refused(sp, idp):
    app, client = sp
    xml = idp.respond(request_for(client, idp),
                      change=shifted(timedelta(minutes=10), not_before=timedelta(minutes=5)))
    assert_refused(app, post_response(client, xml))


def test_an_encrypted_assertion_is_refused_as_unsupported(sp, idp):
    app, client = sp
    doc = Document(idp.respond(request_for(client, idp)))
    wrapper = doc.dom.createElementNS(SAML, "ns1:EncryptedAssertion")
    doc.response.appendChild(wrapper)
    assert_refused(app, post_response(client, doc.xml()))
