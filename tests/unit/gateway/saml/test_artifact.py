"""The artifact back channel (issue 21): only a type 4 artifact; the ArtifactResponse must be
signed by the IdP, answer our ArtifactResolve and come from the IdP; over https the gateway
presents its back-channel client certificate (mutual TLS)."""

from __future__ import annotations

import base64

import pytest

from gateway.saml import artifact
from gateway.saml.errors import MalformedMessage, RefusedResponse
from tests.federation.paths import artifact as make_artifact
from tests.federation.paths import artifact_response
from tests.federation.simplesamlphp import session_keys

IDP = "https://broker.example/idp"
RESPONSE = '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="r1"/>'


@pytest.fixture(scope="module")
def idp_keys():
    return session_keys("artifact unit idp")


def pem(keys) -> str:
    return keys.cert_pem.decode()


def test_a_type_4_artifact_names_its_source_and_endpoint():
    index, source = artifact.parse_artifact(make_artifact(IDP, index=3))
    assert index == 3
    assert source == artifact.source_id(IDP)


@pytest.mark.parametrize(
    "value",
    [None, "", "not base64!", base64.b64encode(b"\x00\x05" + bytes(42)).decode(),
     base64.b64encode(b"\x00\x04" + bytes(10)).decode()],
)
def test_anything_else_is_refused(value):
    with pytest.raises(RefusedResponse):
        artifact.parse_artifact(value)


def test_a_signed_answer_to_our_resolve_yields_the_response(idp_keys):
    answer = artifact_response(RESPONSE, "_resolve1", IDP, idp_keys.key_pem, idp_keys.cert_pem)
    inner = artifact.unwrap(answer, "_resolve1", IDP, [pem(idp_keys)])
    assert b'ID="r1"' in inner and inner.startswith(b"<samlp:Response")


def test_an_answer_signed_by_another_key_is_refused(idp_keys):
    other = session_keys("artifact unit stranger")
    answer = artifact_response(RESPONSE, "_resolve1", IDP, other.key_pem, other.cert_pem)
    with pytest.raises(RefusedResponse) as refused:
        artifact.unwrap(answer, "_resolve1", IDP, [pem(idp_keys)])
    assert refused.value.code == "saml_artifact_signature"


def test_an_answer_to_another_resolve_or_from_another_issuer_is_refused(idp_keys):
    answer = artifact_response(RESPONSE, "_resolve1", IDP, idp_keys.key_pem, idp_keys.cert_pem)
    with pytest.raises(RefusedResponse) as wrong_request:
        artifact.unwrap(answer, "_resolve2", IDP, [pem(idp_keys)])
    with pytest.raises(RefusedResponse) as wrong_issuer:
        artifact.unwrap(answer, "_resolve1", "https://other.example/idp", [pem(idp_keys)])
    assert wrong_request.value.code == "saml_in_response_to"
    assert wrong_issuer.value.code == "saml_issuer"


def test_an_unsigned_answer_or_a_dtd_is_refused(idp_keys):
    signed = artifact_response(RESPONSE, "_r", IDP, idp_keys.key_pem, idp_keys.cert_pem).decode()
    start = signed.index("<ds:Signature")
    unsigned = signed[:start] + signed[signed.index("</ds:Signature>") + 15 :]
    with pytest.raises(RefusedResponse) as refused:
        artifact.unwrap(unsigned.encode(), "_r", IDP, [pem(idp_keys)])
    assert refused.value.code == "saml_artifact_unsigned"
    with pytest.raises(MalformedMessage):
        artifact.unwrap(b'<!DOCTYPE x [<!ENTITY a "b">]>' + signed.split("?>", 1)[1].encode(),
                        "_r", IDP, [pem(idp_keys)])


def test_https_back_channels_present_the_client_certificate(monkeypatch, tmp_path):
    (tmp_path / "saml").mkdir()
    for name in ("backchannel.crt", "backchannel.key", "backchannel-ca.pem"):
        (tmp_path / "saml" / name).write_text("x")
    tls, verify = artifact.backchannel_tls(tmp_path)
    assert tls == (str(tmp_path / "saml" / "backchannel.crt"),
                   str(tmp_path / "saml" / "backchannel.key"))
    assert verify == str(tmp_path / "saml" / "backchannel-ca.pem")
    seen = []

    class Answer:
        status_code = 200

        def __enter__(self):
            return self

        def __exit__(self, *args):
            return False

        def iter_content(self, size):
            return [b"<ok/>"]

    def post(url, **options):
        seen.append((url, options["cert"], options["verify"]))
        return Answer()

    monkeypatch.setattr(artifact.requests, "post", post)
    artifact.post_soap("https://broker.example/ars", b"<x/>", tls, verify)
    artifact.post_soap("http://127.0.0.1:9/ars", b"<x/>", tls, verify)
    assert seen == [("https://broker.example/ars", tls, verify), ("http://127.0.0.1:9/ars", None, verify)]
    assert artifact.backchannel_tls(tmp_path / "none") == (None, True)
