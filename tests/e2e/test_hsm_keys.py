"""Key custody in an HSM, end to end: a real gateway (gunicorn, two workers) whose signing keys
were generated on a SoftHSM token by ``gateway keys hsm-init`` issues access tokens, consent
receipts and audit checkpoints that verify against the keys it publishes, and those published
keys are the public halves of the token's non-extractable key pairs.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pkcs11
import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet
from pkcs11 import Attribute, ObjectClass

from gateway.audit.note import verify_checkpoint
from tests import exchange_helpers as ex
from tests.e2e.conftest import REPO, LiveServer, start_server, stop_server
from tests.e2e.partners import register_partners
from tests.unit.gateway.keys.softhsm import MODULE, USER_PIN, new_prefix, soft_token

pytestmark = pytest.mark.e2e
TODAY = ex.today()


@dataclass
class HsmGateway:
    server: LiveServer
    keys_dir: Path
    prefix: str
    initialised: str  # what ``gateway keys hsm-init`` printed
    partners: dict

    def kid(self, purpose: str) -> str:
        [kid] = re.findall(rf"created: .* ({purpose}-\S+)", self.initialised)
        return kid


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    token = soft_token()
    prefix = new_prefix()
    instance = tmp_path_factory.mktemp("hsm-live")
    keys_dir = instance / "keys"
    (keys_dir / "master").mkdir(parents=True)
    (keys_dir / "master" / "v1.key").write_bytes(base64.b64encode(os.urandom(32)) + b"\n")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(instance),
        "PYTHONPATH": str(REPO),
        "GATEWAY_INSTANCE_DIR": str(instance),
        "GATEWAY_KEYS_DIR": str(keys_dir),
        **token.env(prefix),
    }
    initialised = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "keys", "hsm-init"],
        env=env, cwd=instance, capture_output=True, text=True, timeout=120,
    )
    assert initialised.returncode == 0, initialised.stderr
    server = start_server(instance, keys_dir, extra_env=token.env(prefix))
    try:
        partners = register_partners(server, tmp_path_factory.mktemp("hsm-partners"))
        yield HsmGateway(server, keys_dir, prefix, initialised.stdout, partners)
    finally:
        stop_server(server.process)


def token_objects(prefix: str, object_class) -> dict:
    """Label -> attributes of the token's objects under ``prefix``, read here through PKCS#11."""
    on_token = pkcs11.lib(str(MODULE)).get_token(token_label=soft_token().label)
    try:
        session = on_token.open(user_pin=USER_PIN)
    except pkcs11.UserAlreadyLoggedIn:
        session = on_token.open()
    with session:
        found = {}
        for obj in session.get_objects({Attribute.CLASS: object_class}):
            if obj.label.startswith(prefix):
                found[obj.label] = (
                    {"point": obj[Attribute.EC_POINT]}
                    if object_class == ObjectClass.PUBLIC_KEY
                    else {"extractable": obj[Attribute.EXTRACTABLE],
                          "sensitive": obj[Attribute.SENSITIVE]}
                )
        return found


def published_jwks(gateway) -> dict:
    response = requests.get(f"{gateway.server.url}/oauth/jwks", timeout=10)
    assert response.status_code == 200
    return response.json()


def coordinate(jwk: dict, name: str) -> bytes:
    return base64.urlsafe_b64decode(jwk[name] + "=" * (-len(jwk[name]) % 4))


def test_every_published_key_is_a_token_key_pair_that_cannot_be_exported(gateway):
    public = token_objects(gateway.prefix, ObjectClass.PUBLIC_KEY)
    private = token_objects(gateway.prefix, ObjectClass.PRIVATE_KEY)
    jwks = published_jwks(gateway)["keys"]
    assert sorted(jwk["kid"] for jwk in jwks) == sorted(
        gateway.kid(purpose) for purpose in ("token", "push", "receipt"))
    for jwk in jwks:
        label = gateway.prefix + jwk["kid"]
        point = public[label]["point"]
        assert point.endswith(b"\x04" + coordinate(jwk, "x") + coordinate(jwk, "y"))
        assert private[label] == {"extractable": False, "sensitive": True}
    assert private[gateway.prefix + "audit-ed25519"] == {"extractable": False, "sensitive": True}
    # the gateway wrote no private key of its own beside the master secret
    assert not list(gateway.keys_dir.rglob("*.pem"))


def test_access_tokens_are_signed_on_the_token_and_verify_against_the_jwks(gateway):
    school = gateway.partners[ex.SCHOOL]
    access_token = school.token()
    header = jwt.decode(access_token, KeySet.import_key_set(published_jwks(gateway))).header
    assert header["kid"] == gateway.kid("token") and header["alg"] == "ES256"
    # the gateway accepts its own token on the API
    response = requests.get(f"{gateway.server.url}/api/v1/audit/events",
                            headers={"Authorization": f"Bearer {access_token}"}, timeout=10)
    assert response.status_code == 200, response.text
    # and a token whose signature was altered is refused
    forged = access_token[:-4] + ("AAAA" if not access_token.endswith("AAAA") else "BBBB")
    response = requests.get(f"{gateway.server.url}/api/v1/audit/events",
                            headers={"Authorization": f"Bearer {forged}"}, timeout=10)
    assert response.status_code == 401


def test_audit_checkpoints_are_signed_on_the_token(gateway):
    school = gateway.partners[ex.SCHOOL]
    sent = school.send("absence_report", ex.LEERPLICHT, ex.absence_report(TODAY))
    assert sent.status_code in (200, 201, 202), sent.text
    answer = requests.get(f"{gateway.server.url}/api/v1/audit/checkpoint",
                          headers=school.headers(), timeout=10)
    assert answer.status_code == 200, answer.text
    checkpoint = answer.json()["checkpoint"]
    assert checkpoint["tree_size"] >= sent.json()["audit"]["seq"]
    key = requests.get(f"{gateway.server.url}/api/v1/audit/key", timeout=10).json()
    public_key = base64.b64decode(key["public_key"])
    # the published audit key is the public half of the token's Ed25519 key pair
    token_point = token_objects(gateway.prefix, ObjectClass.PUBLIC_KEY)[
        gateway.prefix + "audit-ed25519"]["point"]
    assert token_point.endswith(public_key) and len(public_key) == 32
    body = verify_checkpoint(checkpoint["note"], public_key)
    assert body.tree_size == checkpoint["tree_size"]
    assert base64.b64encode(body.root_hash).decode() in checkpoint["note"]
    assert checkpoint["key_id"] == key["key_id"]


def test_consent_receipts_are_signed_on_the_token(gateway):
    school = gateway.partners[ex.SCHOOL]
    body = {
        "subject": {"bsn": ex.BSN},
        "date_of_birth": ex.born(TODAY, 9),
        "purpose": "mazl",
        "parties": [ex.SCHOOL, "ggd"],
        "granted_by": [{"role": "parent"}],
        "valid_from": TODAY.isoformat(),
        "valid_until": (TODAY + timedelta(days=180)).isoformat(),
        "evidence": {"method": "digital", "reference": "portaal-8812"},
    }
    response = requests.post(f"{gateway.server.url}/api/v1/consents", json=body,
                             headers=school.headers(), timeout=10)
    assert response.status_code == 201, response.text
    receipt = jwt.decode(response.json()["receipt"],
                         KeySet.import_key_set(published_jwks(gateway)), algorithms=["ES256"])
    assert receipt.header["kid"] == gateway.kid("receipt")
    assert receipt.claims["jti"] == response.json()["id"]
