"""IdP-initiated single logout: a signed LogoutRequest ends the person's sessions; an
unsigned or wrongly signed one ends nothing."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from saml2 import BINDING_HTTP_REDIRECT
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.xmldsig import SIG_RSA_SHA1, SIG_RSA_SHA256

from tests.saml_helpers import OPERATOR_OFFICER, TestIdp, forget_logins, gateway_app, login


@pytest.fixture(scope="module")
def idp(tmp_path_factory) -> TestIdp:
    return TestIdp(tmp_path_factory.mktemp("slo-idp"))


@pytest.fixture(scope="module")
def sp_app(keys_dir, idp, tmp_path_factory):
    app = gateway_app(tmp_path_factory.mktemp("slo"), keys_dir, idp.metadata())
    idp.bind(app.test_client().get("/saml/metadata").get_data(as_text=True))
    yield app
    app.extensions["gateway"].db.dispose()


@pytest.fixture
def signed_in(sp_app, idp):
    forget_logins(sp_app)
    client = sp_app.test_client()
    assert login(client, idp, OPERATOR_OFFICER).status_code == 303
    assert client.get("/ui/").status_code == 200
    return client


def logout_url(idp: TestIdp, sigalg=SIG_RSA_SHA256, sign=True) -> str:
    server = idp.server
    slo = "http://127.0.0.1:8000/saml/slo"
    _id, request = server.create_logout_request(
        slo, "http://127.0.0.1:8000/saml/metadata",
        name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=OPERATOR_OFFICER.name_id),
        sign=False,
    )
    info = server.apply_binding(BINDING_HTTP_REDIRECT, str(request), slo, "rs", sign=sign,
                                sigalg=sigalg)
    location = dict(info["headers"])["Location"]
    return urlparse(location).path + "?" + urlparse(location).query


def test_a_signed_logout_request_ends_the_session_and_answers_the_idp(signed_in, idp):
    response = signed_in.get(logout_url(idp))
    assert response.status_code == 302
    assert response.headers["Location"].startswith(idp.SLO_URL + "?SAMLResponse=")
    assert "Signature=" in response.headers["Location"]
    assert signed_in.get("/ui/").status_code == 302


def test_an_unsigned_logout_request_ends_nothing(signed_in, idp):
    url = logout_url(idp)
    query = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
    unsigned = {k: v for k, v in query.items() if k not in ("Signature", "SigAlg")}
    response = signed_in.get("/saml/slo?" + urlencode(unsigned))
    assert response.status_code == 403
    assert signed_in.get("/ui/").status_code == 200


def test_a_tampered_logout_request_ends_nothing(signed_in, idp):
    url = logout_url(idp)
    query = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
    query["RelayState"] = "changed"
    response = signed_in.get("/saml/slo?" + urlencode(query))
    assert response.status_code == 403
    assert signed_in.get("/ui/").status_code == 200


def test_a_sha1_signed_logout_request_ends_nothing(signed_in, idp):
    response = signed_in.get(logout_url(idp, sigalg=SIG_RSA_SHA1))
    assert response.status_code == 403
    assert signed_in.get("/ui/").status_code == 200
