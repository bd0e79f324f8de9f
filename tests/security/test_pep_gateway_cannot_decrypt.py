"""The serving gateway, given everything it holds, cannot decrypt a polymorphic pseudonym.

The key issuer runs through the real CLI (``gateway keys pep-issue``) into a key directory;
then the test gathers every value the gateway could use as a key: each 32-byte string in every
file of the key directory (base64 in JSON, or raw), the master secrets' HKDF outputs, the
factors the running transcryptor loaded, and products, quotients and inverses of pairs of them.
None of them decrypts a polymorphic pseudonym to the child's element or to a domain pseudonym,
none is the master key, the link secret or an organisation's decryption key, and none of those
secrets appears anywhere in the key directory.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli.main import main as gateway_cli
from gateway.keys import KeyStore
from gateway.pep.issuing import ISSUER_FILE
from gateway.pep.transcryptor import Transcryptor
from gateway.registry.service import ClientCredentials, OrganisationRegistry
from gateway.storage.database import Database
from pseudonymise import Bsn, organisation_domain
from pseudonymise.pep import KeyIssuer, bsn_element, encrypt, group, transcrypt
from pseudonymise.pep.elgamal import decode_base64
from tests import exchange_helpers as ex
from tests.oauth_helpers import make_client_key

B64 = re.compile(rb"[A-Za-z0-9+/_-]{43}=?")


@pytest.fixture
def issued(sqlite_url, tmp_path, monkeypatch):
    keys_dir = tmp_path / "keys"
    issuer_dir = tmp_path / "issuer"
    KeyStore(keys_dir, allow_generate=True)
    db = Database(sqlite_url)
    registry = OrganisationRegistry(db, production=False)
    for oin, name, type_ in ex.ORGANISATIONS:
        registry.add_organisation(oin, name, type_, polymorphic=True)
        registry.add_client(oin, f"c-{oin}",
                            ClientCredentials("private_key_jwt", jwks=make_client_key().jwks()),
                            ["exchange:send"])
    db.dispose()
    monkeypatch.setenv("GATEWAY_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(keys_dir))
    result = CliRunner().invoke(gateway_cli, ["keys", "pep-issue", "--issuer-dir",
                                                str(issuer_dir)])
    assert result.exit_code == 0, result.output
    document = json.loads((issuer_dir / ISSUER_FILE).read_text())
    issuer = KeyIssuer(
        decode_base64(document["master"], 32),
        decode_base64(document["link"], 32),
        decode_base64(document["reshuffle"], 32),
        decode_base64(document["rekey"], 32),
    )
    return keys_dir, issuer


def thirty_two_byte_values(directory: Path) -> set[bytes]:
    """Every 32-byte value any file of the directory holds, raw or base64 (either alphabet)."""
    values = set()
    for path in directory.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        for match in B64.findall(data):
            text = match.rstrip(b"=")
            for decode in (base64.b64decode, base64.urlsafe_b64decode):
                try:
                    values.add(decode(text + b"=" * (-len(text) % 4))[:32])
                except ValueError:
                    pass
        values.update(data[i : i + 32] for i in range(0, max(len(data) - 31, 0)))
    return {value for value in values if len(value) == 32}


def candidate_scalars(keys_dir: Path) -> list[bytes]:
    state = Transcryptor(keys_dir).state()
    held = {entry.reshuffle for entry in state.domains.values()}
    held |= {entry.rekey for entry in state.domains.values()}
    keyring = KeyStore(keys_dir, allow_generate=False).keyring
    held |= {keyring.derive(purpose, length=32) for purpose in ("audit", "consent", "match")}
    canonical = set()
    for value in held | thirty_two_byte_values(keys_dir):
        try:
            canonical.add(group.scalar(value))
        except Exception:  # noqa: BLE001, S112 - not a scalar: nothing to try
            continue
    factors = sorted({entry.reshuffle for entry in state.domains.values()}
                     | {entry.rekey for entry in state.domains.values()})
    combined = set(canonical)
    combined |= {group.scalar_invert(f) for f in factors}
    for left, right in itertools.combinations(factors, 2):
        combined.add(group.scalar_mul(left, right))
        combined.add(group.scalar_mul(left, group.scalar_invert(right)))
        combined.add(group.scalar_mul(right, group.scalar_invert(left)))
    return sorted(combined)


def test_no_secret_of_the_issuer_is_in_the_gateways_key_directory(issued):
    keys_dir, issuer = issued
    secrets = {issuer.secrets()["master"], issuer.secrets()["link"]}
    secrets |= {issuer.key_share(organisation_domain(oin)).secret_key
                for oin, _, _ in ex.ORGANISATIONS}
    assert not secrets & thirty_two_byte_values(keys_dir)


def test_everything_the_gateway_holds_fails_to_decrypt(issued):
    keys_dir, issuer = issued
    element = bsn_element(Bsn(ex.BSN))
    polymorphic = encrypt(element, issuer.master_public_key)
    transcryptor = Transcryptor(keys_dir)
    for_ggd = transcrypt(polymorphic, transcryptor.factors(None, ex.GGD))
    ggd_pseudonym = group.mul(issuer.factors(organisation_domain(ex.GGD)).reshuffle, element)
    candidates = candidate_scalars(keys_dir)
    assert len(candidates) > 40  # factors of seven domains, their combinations, file contents
    targets = {issuer.master_public_key, issuer.link_public_key, for_ggd.y}
    for x in candidates:
        assert group.mul_base(x) not in targets
        for ciphertext in (polymorphic, for_ggd):
            plain = group.sub(ciphertext.c, group.mul(x, ciphertext.b))
            assert plain not in (element, ggd_pseudonym)
    # the intended holder can: the test would notice if decryption itself were broken
    share = issuer.key_share(organisation_domain(ex.GGD))
    assert group.sub(for_ggd.c, group.mul(share.secret_key, for_ggd.b)) == ggd_pseudonym


def test_the_gateway_cannot_compute_a_link_tag(issued):
    """Without the link secret no held scalar maps the child's element to its tag."""
    keys_dir, issuer = issued
    element = bsn_element(Bsn(ex.BSN))
    tag = group.mul(issuer.secrets()["link"], element)
    for x in candidate_scalars(keys_dir):
        assert group.mul(x, element) != tag


def test_issuer_refuses_a_directory_inside_the_gateways_keys(sqlite_url, tmp_path, monkeypatch):
    KeyStore(tmp_path / "keys", allow_generate=True)
    monkeypatch.setenv("GATEWAY_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(tmp_path / "keys"))
    result = CliRunner().invoke(gateway_cli, ["keys", "pep-issue", "--issuer-dir",
                                                str(tmp_path / "keys" / "issuer")])
    assert result.exit_code != 0
    assert "outside GATEWAY_KEYS_DIR" in result.output
    assert not (tmp_path / "keys" / "issuer").exists()


def test_reissuing_keeps_every_pseudonym(issued, tmp_path, monkeypatch):
    keys_dir, issuer = issued
    before = Transcryptor(keys_dir).state()
    result = CliRunner().invoke(gateway_cli, ["keys", "pep-issue", "--issuer-dir",
                                                str(tmp_path / "issuer")])
    assert result.exit_code == 0, result.output
    after = Transcryptor(keys_dir).state()
    assert after.domains == before.domains


def test_a_damaged_transcryptor_file_means_no_keys_not_a_crash(issued):
    keys_dir, _ = issued
    path = keys_dir / "pep" / "transcryptor.json"
    path.write_text('{"version": 1, "master_public_key": "not base64"}')
    transcryptor = Transcryptor(keys_dir)
    assert transcryptor.state() is None
    assert not transcryptor.takes_part(ex.GGD)
