"""The federation harness works: two real SimpleSAMLphp IdPs answer a pysaml2 SP as the
federations they imitate do (issue 21), and signed metadata aggregates verify until broken.

The SP here is a minimal pysaml2 client made in the test (not the gateway): it signs its
AuthnRequests and ArtifactResolves and holds an encryption key, and it is what verifies the
IdPs' signatures and decrypts their assertions, so a harness that sent something a real SP
would refuse fails these tests.
"""

from __future__ import annotations

import base64
import shutil
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from defusedxml.ElementTree import fromstring
from saml2 import BINDING_HTTP_ARTIFACT, BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from saml2.sigver import SignatureError
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from tests.federation.simplesamlphp import (
    BINDING_ARTIFACT,
    BINDING_POST,
    BRIN,
    ENTREE_ROLE,
    KVK,
    LOA2,
    LOA3,
    ROLE_URI,
    VESTIGING,
    IdpLoginError,
    flip_one_byte,
    resolve_artifact,
    session_keys,
    signed_aggregate,
    verify_aggregate,
    xmlsec_verify,
)

SP_ENTITY_ID = "http://sp.harness.test/saml/metadata"
SP_ACS_POST = "http://sp.harness.test/saml/acs"
SP_ACS_ARTIFACT = "http://sp.harness.test/saml/acs/artifact"
MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
SAMLP_NS = "urn:oasis:names:tc:SAML:2.0:protocol"


class Sp:
    """A pysaml2 SP with a signing and an encryption key pair of its own."""

    def __init__(self, directory) -> None:
        self.signing = session_keys("test sp signing")
        self.encryption = session_keys("test sp encryption")
        self.signing_files = self.signing.write(directory, "sp-signing")
        self.encryption_files = self.encryption.write(directory, "sp-encryption")
        self.metadata_xml = create_metadata_string(None, self.config(None), sign=False).decode()

    def config(self, idp_metadata: list[str] | None) -> SPConfig:
        settings = {
            "entityid": SP_ENTITY_ID,
            "key_file": str(self.signing_files[0]),
            "cert_file": str(self.signing_files[1]),
            "encryption_keypairs": [
                {
                    "key_file": str(self.encryption_files[0]),
                    "cert_file": str(self.encryption_files[1]),
                }
            ],
            "xmlsec_binary": shutil.which("xmlsec1"),
            "allow_unknown_attributes": True,
            "signing_algorithm": SIG_RSA_SHA256,
            "digest_algorithm": DIGEST_SHA256,
            "accepted_time_diff": 60,
            "service": {
                "sp": {
                    "endpoints": {
                        "assertion_consumer_service": [
                            (SP_ACS_POST, BINDING_HTTP_POST),
                            (SP_ACS_ARTIFACT, BINDING_HTTP_ARTIFACT),
                        ],
                    },
                    "authn_requests_signed": True,
                    "want_assertions_signed": True,
                    "want_response_signed": False,
                    "allow_unsolicited": False,
                    "name_id_format": NAMEID_FORMAT_PERSISTENT,
                }
            },
        }
        if idp_metadata:
            settings["metadata"] = {"inline": idp_metadata}
        config = SPConfig()
        config.load(settings)
        return config

    def client(self, idp_metadata: str) -> Saml2Client:
        return Saml2Client(config=self.config([idp_metadata]))


@pytest.fixture(scope="module")
def sp(tmp_path_factory):
    return Sp(tmp_path_factory.mktemp("sp"))


@pytest.fixture(scope="module")
def entree(simplesamlphp_idps, sp):
    return simplesamlphp_idps.get("entree", sp.metadata_xml)


@pytest.fixture(scope="module")
def eherkenning(simplesamlphp_idps, sp):
    return simplesamlphp_idps.get("eherkenning", sp.metadata_xml)


def authn_request(client: Saml2Client, idp, relay_state: str, *, artifact: bool, sign=True):
    """A signed HTTP-Redirect AuthnRequest: its id and the URL the SP redirects the browser to."""
    extra = {"response_binding": BINDING_HTTP_ARTIFACT} if artifact else {}
    request_id, info = client.prepare_for_authenticate(
        entityid=idp.entity_id,
        relay_state=relay_state,
        binding=BINDING_HTTP_REDIRECT,
        sign=sign,
        sigalg=SIG_RSA_SHA256 if sign else None,
        **extra,
    )
    return request_id, dict(info["headers"])["Location"]


def attributes_of(response) -> dict[str, list[str]]:
    """The assertion's attributes by their names as sent (no pysaml2 name mapping)."""
    found: dict[str, list[str]] = {}
    for statement in response.assertion.attribute_statement:
        for attribute in statement.attribute:
            found[attribute.name] = [value.text for value in attribute.attribute_value]
    return found


def class_ref(response) -> str:
    return response.assertion.authn_statement[0].authn_context.authn_context_class_ref.text


def metadata_root(xml: str):
    return fromstring(xml.encode(), forbid_dtd=True)


# --- metadata --------------------------------------------------------------------------


def test_both_idps_serve_metadata_with_their_own_signing_certificate(entree, eherkenning):
    for idp in (entree, eherkenning):
        served = requests.get(idp.metadata_url, timeout=10)
        assert served.status_code == 200
        root = metadata_root(served.text)
        assert root.get("entityID") == idp.entity_id
        descriptor = root.find(f"{MD}IDPSSODescriptor")
        assert descriptor.get("WantAuthnRequestsSigned") == "true"
        signing = descriptor.find(f"{MD}KeyDescriptor[@use='signing']")
        assert signing.find(f".//{DS}X509Certificate").text.strip() == idp.signing.cert_base64
        sso = descriptor.find(f"{MD}SingleSignOnService")
        assert sso.get("Location") == idp.sso_url
    assert entree.signing.cert_base64 != eherkenning.signing.cert_base64

    broker = metadata_root(eherkenning.metadata_xml).find(f"{MD}IDPSSODescriptor")
    resolution = broker.find(f"{MD}ArtifactResolutionService")
    assert resolution.get("Location") == eherkenning.artifact_resolution_url
    assert resolution.get("Binding") == "urn:oasis:names:tc:SAML:2.0:bindings:SOAP"
    school = metadata_root(entree.metadata_xml).find(f"{MD}IDPSSODescriptor")
    assert school.find(f"{MD}ArtifactResolutionService") is None


# --- Entree: HTTP-POST, signed, BRIN ---------------------------------------------------


def test_entree_login_posts_a_signed_assertion_with_the_schools_brin(entree, sp):
    client = sp.client(entree.metadata_xml)
    request_id, url = authn_request(client, entree, "/ui/", artifact=False)

    result = entree.login(requests.Session(), url, "entree-officer", "entree-officer-pw")

    assert result.binding == BINDING_POST
    assert result.url == SP_ACS_POST
    assert result.relay_state == "/ui/"
    response = client.parse_authn_request_response(
        result.saml_response, BINDING_HTTP_POST, outstanding={request_id: "/ui/"}
    )
    assert response.assertion.signature is not None  # pysaml2 checked it against the metadata
    attributes = attributes_of(response)
    assert attributes[BRIN] == ["12AB"]
    assert attributes[ENTREE_ROLE] == ["privacy-officer"]
    assert response.name_id.text == "entree-officer"
    assert response.name_id.format == NAMEID_FORMAT_PERSISTENT
    assert "EncryptedAssertion" not in result.response_xml


def test_entree_assertion_changed_after_signing_is_refused_by_the_sp(entree, sp):
    client = sp.client(entree.metadata_xml)
    request_id, url = authn_request(client, entree, "/ui/", artifact=False)
    result = entree.login(requests.Session(), url, "entree-officer", "entree-officer-pw")

    changed = result.response_xml.replace(">12AB<", ">99ZZ<")
    assert changed != result.response_xml

    with pytest.raises(SignatureError):
        client.parse_authn_request_response(
            base64.b64encode(changed.encode()).decode(),
            BINDING_HTTP_POST,
            outstanding={request_id: "/ui/"},
        )


def test_entree_other_user_asserts_the_other_brin(entree, sp):
    client = sp.client(entree.metadata_xml)
    request_id, url = authn_request(client, entree, "/", artifact=False)

    result = entree.login(requests.Session(), url, "entree-other", "entree-other-pw")

    response = client.parse_authn_request_response(
        result.saml_response, BINDING_HTTP_POST, outstanding={request_id: "/"}
    )
    assert attributes_of(response)[BRIN] == ["34CD"]


def test_entree_refuses_an_unsigned_authn_request_and_a_wrong_password(entree, sp):
    client = sp.client(entree.metadata_xml)
    _, unsigned = authn_request(client, entree, "/", artifact=False, sign=False)
    assert "Signature=" not in unsigned
    refusal = "no signature found on message"
    before = entree.logs().count(refusal)
    with pytest.raises(IdpLoginError):
        entree.login(requests.Session(), unsigned, "entree-officer", "entree-officer-pw")
    assert entree.logs().count(refusal) == before + 1

    _, url = authn_request(client, entree, "/", artifact=False)
    with pytest.raises(IdpLoginError, match="password was refused"):
        entree.login(requests.Session(), url, "entree-officer", "not-the-password")


# --- eHerkenning: HTTP-Artifact, encrypted, KvK, assurance ----------------------------


def artifact_login(eherkenning, sp, username):
    client = sp.client(eherkenning.metadata_xml)
    request_id, url = authn_request(client, eherkenning, "/ui/", artifact=True)
    result = eherkenning.login(requests.Session(), url, username, f"{username}-pw")
    return client, request_id, result


def test_eherkenning_front_channel_carries_only_the_artifact(eherkenning, sp):
    _, _, result = artifact_login(eherkenning, sp, "kvk-loa3")

    assert result.binding == BINDING_ARTIFACT
    target = urlparse(result.url)
    assert f"{target.scheme}://{target.netloc}{target.path}" == SP_ACS_ARTIFACT
    query = parse_qs(target.query)
    assert query["SAMLart"] == [result.saml_art]
    assert query["RelayState"] == ["/ui/"]
    assert result.saml_response is None
    assert "Assertion" not in result.html
    assert "SAMLResponse" not in result.html
    # a SAML 2.0 type 4 artifact: 0x0004, an endpoint index, the IdP's SHA-1 source id
    assert base64.b64decode(result.saml_art)[:2] == b"\x00\x04"


@pytest.mark.parametrize(
    ("username", "loa", "vestiging"),
    [("kvk-loa3", LOA3, ["000012345678"]), ("kvk-loa2", LOA2, None)],
)
def test_eherkenning_artifact_resolves_to_an_encrypted_assertion(
    eherkenning, sp, username, loa, vestiging
):
    client, request_id, result = artifact_login(eherkenning, sp, username)

    resolved = resolve_artifact(
        eherkenning.artifact_resolution_url, result.saml_art, SP_ENTITY_ID, sp.signing
    )

    assert resolved.status_code == 200
    assert xmlsec_verify(
        resolved.soap.encode(), eherkenning.signing.cert_pem, f"{SAMLP_NS}:ArtifactResponse"
    )
    assert "EncryptedAssertion" in resolved.response
    assert "<saml:Assertion" not in resolved.response
    assert "12345678" not in resolved.response  # the KvK number travels encrypted only
    response = client.parse_authn_request_response(
        base64.b64encode(resolved.response.encode()).decode(),
        BINDING_HTTP_ARTIFACT,
        outstanding={request_id: "/ui/"},
    )
    assert response.assertion.signature is not None
    attributes = attributes_of(response)
    assert attributes[KVK] == ["12345678"]
    assert attributes.get(VESTIGING) == vestiging
    assert attributes[ROLE_URI] == ["privacy-officer"]
    assert class_ref(response) == loa
    assert response.name_id.text == username


def test_eherkenning_back_channel_wants_the_sps_signature_and_answers_once(eherkenning, sp):
    _, _, result = artifact_login(eherkenning, sp, "kvk-other")
    url = eherkenning.artifact_resolution_url
    stranger = session_keys("not the sp")

    unsigned = resolve_artifact(url, result.saml_art, SP_ENTITY_ID, None)
    foreign = resolve_artifact(url, result.saml_art, SP_ENTITY_ID, stranger)
    first = resolve_artifact(url, result.saml_art, SP_ENTITY_ID, sp.signing)
    second = resolve_artifact(url, result.saml_art, SP_ENTITY_ID, sp.signing)

    assert unsigned.status_code == 403 and "Fault" in unsigned.soap
    assert unsigned.response is None
    assert foreign.status_code == 403 and foreign.response is None
    assert first.status_code == 200 and "EncryptedAssertion" in first.response
    assert second.status_code == 200 and second.response is None


def test_configure_turns_encryption_off_without_a_restart(simplesamlphp_idps, sp):
    idp = simplesamlphp_idps.get("eherkenning", sp.metadata_xml, name="plaintext")
    try:
        idp.configure(encrypt_assertion=False)
        client, request_id, result = artifact_login(idp, sp, "kvk-loa3")
        resolved = resolve_artifact(
            idp.artifact_resolution_url, result.saml_art, SP_ENTITY_ID, sp.signing
        )
        assert "<saml:Assertion" in resolved.response
        assert "EncryptedAssertion" not in resolved.response
    finally:
        idp.configure(encrypt_assertion=True)


# --- signed metadata aggregates ------------------------------------------------------


def test_signed_aggregate_verifies_until_one_byte_flips(entree, eherkenning, metadata_server):
    federation = session_keys("test federation")
    valid_until = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    aggregate = signed_aggregate(
        [entree.metadata_xml, eherkenning.metadata_xml],
        federation.key_pem,
        federation.cert_pem,
        valid_until,
        timedelta(hours=1),
    )

    root = fromstring(aggregate, forbid_dtd=True)
    assert root.tag == f"{MD}EntitiesDescriptor"
    assert root.get("validUntil") == "2030-01-01T12:00:00Z"
    assert root.get("cacheDuration") == "PT3600S"
    assert [e.get("entityID") for e in root.findall(f"{MD}EntityDescriptor")] == [
        entree.entity_id,
        eherkenning.entity_id,
    ]
    assert verify_aggregate(aggregate, federation.cert_pem)
    assert not verify_aggregate(aggregate, session_keys("another federation").cert_pem)

    broken = flip_one_byte(aggregate)
    assert sum(a != b for a, b in zip(aggregate, broken, strict=True)) == 1
    fromstring(broken, forbid_dtd=True)  # still well-formed: only the signature can tell
    assert not verify_aggregate(broken, federation.cert_pem)

    url = metadata_server.publish("/federation.xml", aggregate)
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200
    assert fetched.content == aggregate
    assert metadata_server.hits("/federation.xml") == 1
    metadata_server.publish("/federation.xml", broken)
    assert requests.get(url, timeout=10).content == broken
    assert requests.get(metadata_server.url("/missing.xml"), timeout=10).status_code == 404
