"""The partner library against the real gateway application, in process.

A requests transport adapter hands every call of ``GatewayClient`` to the Flask test client,
so tokens, key shares, proofs, transcryption, consent and routing are the gateway's own. The
expected pseudonyms come from the issuer's factors (``pseudonymise.pep``), not from the
gateway's answers. The example script's ``run`` is exercised the same way.
"""

from __future__ import annotations

import base64
import importlib.util
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from joserfc.jwk import ECKey
from requests.adapters import BaseAdapter
from thuiszitterspact_client import GatewayClient, GatewayError

from gateway import create_app
from gateway.config import Settings
from gateway.keys import KeyStore
from gateway.pep.issuing import Participant, issue
from gateway.registry.service import ClientCredentials, OrganisationRegistry
from gateway.storage.database import Database
from pseudonymise.bsn import Bsn
from pseudonymise.pep import KeyIssuer, bsn_element
from pseudonymise.pep import group as gw_group
from tests import exchange_helpers as ex

BSN = "123456782"
TODAY = ex.today()
SCOPES = ["exchange:send", "exchange:receive", "consent:write", "consent:read", "signal:write"]
POLYMORPHIC = {ex.SCHOOL, ex.GGD, ex.LEERPLICHT, ex.OPERATOR}  # WIJ stays out
EXAMPLE = Path(__file__).resolve().parents[3] / "clients/python/examples/polymorphic_exchange.py"


class FlaskTransport(BaseAdapter):
    """requests -> the Flask test client; records each call's timeout."""

    def __init__(self, app) -> None:
        super().__init__()
        self.client = app.test_client()
        self.timeouts: list = []

    def send(self, request, **kwargs):
        self.timeouts.append(kwargs.get("timeout"))
        url = urlsplit(request.url)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
        answer = self.client.open(url.path, method=request.method, query_string=url.query,
                                  headers=headers, data=request.body)
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers.update(dict(answer.headers))
        response._content = answer.get_data()
        response.url, response.request = request.url, request
        return response

    def close(self) -> None:
        pass


def load_example():
    """The example script as a module (it is not a package)."""
    spec = importlib.util.spec_from_file_location("polymorphic_exchange", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    return example


def expected(issuer: KeyIssuer, bsn: str, oin: str) -> str:
    element = gw_group.mul(issuer.factors(f"pseudonym:{oin}").reshuffle, bsn_element(Bsn(bsn)))
    return base64.urlsafe_b64encode(element).rstrip(b"=").decode("ascii")


@pytest.fixture
def world(sqlite_url, tmp_path):
    """A gateway with the example organisations; every one but WIJ in polymorphic mode."""
    keys_dir = tmp_path / "keys"
    KeyStore(keys_dir, allow_generate=True)
    settings = Settings(database_url=sqlite_url, keys_dir=keys_dir)
    db = Database(sqlite_url)
    registry = OrganisationRegistry(db, production=False)
    keys, participants = {}, []
    for oin, name, type_ in ex.ORGANISATIONS:
        registry.add_organisation(oin, name, type_, polymorphic=oin in POLYMORPHIC)
        # as a partner registers it for private_key_jwt: "use": "sig", "alg": "ES256"
        keys[oin] = ECKey.generate_key(
            "P-256", parameters={"kid": f"{oin}-1", "alg": "ES256", "use": "sig"}
        )
        jwks = {"keys": [keys[oin].as_dict(private=False)]}
        registry.add_client(oin, f"client-{oin}", ClientCredentials("private_key_jwt",
                                                                      jwks=jwks), SCOPES)
        if oin in POLYMORPHIC:
            participants.append(Participant(oin, {f"client-{oin}": jwks}))
    issuer = KeyIssuer.generate()
    issue(issuer, participants, keys_dir)
    app = create_app(settings)
    app.config["TESTING"] = True
    transport = FlaskTransport(app)

    def client(org: str, **kwargs) -> GatewayClient:
        session = requests.Session()
        session.mount(settings.base_url, transport)
        return GatewayClient(settings.base_url, f"client-{org}",
                             keys[org].as_dict(private=True), session=session, **kwargs)

    yield {"issuer": issuer, "client": client, "transport": transport}
    app.extensions["gateway"].db.dispose()
    db.dispose()


def test_the_example_conversation_runs_against_the_gateway(world):
    example = load_example()
    school = world["client"](ex.SCHOOL)  # learns its OIN from /api/v1/me
    ggd = world["client"](ex.GGD, oin=ex.GGD)

    result = example.run(school, ggd, ex.GGD, BSN)

    assert result["ggd_pseudonym"] == expected(world["issuer"], BSN, ex.GGD)
    assert result["school_pseudonym"] == expected(world["issuer"], BSN, ex.SCHOOL)
    assert result["advice_payload"]["in_reply_to"] == result["referral"]
    assert BSN not in json.dumps(result)
    assert ggd.receive() == [] and school.receive() == []
    assert world["transport"].timeouts and all(t == 10 for t in world["transport"].timeouts)


def test_consents_recorded_polymorphically_are_found_polymorphically(world):
    school, ggd = world["client"](ex.SCHOOL), world["client"](ex.GGD)
    example = load_example()
    recorded = school.record_consent(example.consent_body(ex.SCHOOL, TODAY), BSN)

    found = school.search_consents(BSN)

    assert [c["id"] for c in found["items"]] == [recorded["id"]]
    assert school.search_consents("111222333")["items"] == []
    # the consent names the GGD by type, and the GGD never had the child from the gateway:
    # a search by the BSN's polymorphic form tells it nothing (API.md section 13 rule 2)
    assert ggd.search_consents(BSN)["items"] == []


def test_signals_match_under_each_sides_pseudonym(world):
    school, ggd = world["client"](ex.SCHOOL), world["client"](ex.GGD)
    assert school.create_signal(BSN, "attendance", ex.CONTACT)["status"]
    assert ggd.create_signal(BSN, "wellbeing", ex.CONTACT)["status"]

    for oin, client in ((ex.SCHOOL, school), (ex.GGD, ggd)):
        [item] = client.receive()
        assert item["message_type"] == "signal_match"
        assert item["pseudonym"] == expected(world["issuer"], BSN, oin)


def test_the_gateways_refusals_arrive_as_gateway_errors(world):
    school = world["client"](ex.SCHOOL)

    with pytest.raises(GatewayError) as refused:
        school.send_polymorphic("support_request", ex.WIJ, BSN, ex.support_request(TODAY))
    assert (refused.value.status, refused.value.code) == (422, "recipient_not_polymorphic")
    assert "recipient" in refused.value.errors

    with pytest.raises(GatewayError) as refused:
        school.send_polymorphic("absence_report", ex.LEERPLICHT, BSN, ex.absence_report(TODAY))
    assert (refused.value.status, refused.value.code) == (422, "bsn_required")

    with pytest.raises(GatewayError) as refused:
        school.send_polymorphic("sickness_absence_referral", ex.GGD, BSN,
                                ex.sickness_absence_referral(TODAY))
    assert refused.value.code == "consent_missing"

    with pytest.raises(GatewayError) as refused:
        world["client"](ex.WIJ).key_share()
    assert (refused.value.status, refused.value.code) == (404, "key_share_not_issued")
