"""One signing key per purpose (issue 16): access tokens, push signatures and consent receipts
each have their own folder, ``kid`` prefix and rotation, and no key verifies another's."""

from __future__ import annotations

import pytest
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from consent.receipts import RECEIPT_TYPE
from gateway.config import ConfigurationError
from gateway.consents.receipts import KeyStoreReceiptSigner
from gateway.keys import KeyStore
from gateway.oauth.metadata import public_jwks


@pytest.fixture
def keys(tmp_path):
    return KeyStore(tmp_path / "keys", allow_generate=True)


def test_each_purpose_has_its_own_key_and_kid_prefix(keys):
    kids = {purpose: folder.current.kid for purpose, folder in keys.folders.items()}
    assert set(kids) == {"token", "push", "receipt"}
    assert len(set(kids.values())) == 3
    for purpose, kid in kids.items():
        assert kid.startswith(f"{purpose}-")
    assert (keys.directory / "push" / f"{kids['push']}.pem").is_file()
    assert (keys.directory / "receipts" / f"{kids['receipt']}.pem").is_file()


def test_a_consent_receipt_is_signed_by_the_receipt_key_not_the_token_key(keys):
    receipt = KeyStoreReceiptSigner(keys).sign({"jti": "c-1", "iat": 1}, RECEIPT_TYPE)
    verified = jwt.decode(receipt, KeySet.import_key_set(public_jwks(keys)))
    assert verified.header["kid"] == keys.receipts.current.kid
    token_only = KeySet.import_key_set({"keys": [k.public_jwk() for k in keys.signing_keys]})
    with pytest.raises(JoseError):
        jwt.decode(receipt, token_only)


def test_a_push_or_receipt_kid_is_not_a_token_key(keys):
    """The access-token verifier looks keys up with ``signing_key``: only token keys."""
    assert keys.signing_key(keys.push.current.kid) is None
    assert keys.signing_key(keys.receipts.current.kid) is None
    assert keys.signing_key(keys.current_signing_key.kid) is keys.current_signing_key


def test_the_jwks_publishes_every_purpose_for_signatures_only(keys):
    published = public_jwks(keys)["keys"]
    assert [key["kid"].split("-")[0] for key in published] == ["token", "push", "receipt"]
    assert all(key["use"] == "sig" and "d" not in key for key in published)


@pytest.mark.parametrize("folder", ["signing", "push", "receipts"])
def test_production_refuses_to_start_without_a_purposes_key(tmp_path, folder):
    directory = tmp_path / "keys"
    KeyStore(directory, allow_generate=True)
    for path in (directory / folder).iterdir():
        path.unlink()
    with pytest.raises(ConfigurationError, match="production refuses"):
        KeyStore(directory, allow_generate=False)


def test_token_keys_from_before_the_split_stay_token_keys(tmp_path):
    """A deployed ``signing/`` folder holds unprefixed kids: they keep signing tokens, and
    the new push and receipt keys are created beside them (development)."""
    directory = tmp_path / "keys"
    first = KeyStore(directory, allow_generate=True)
    legacy = directory / "signing" / "20260101T000000-abcdef01"
    for suffix in (".pem", ".json"):
        (directory / "signing" / f"{first.current_signing_key.kid}{suffix}").rename(
            legacy.with_suffix(suffix)
        )
    again = KeyStore(directory, allow_generate=False)
    assert [key.kid for key in again.signing_keys] == [legacy.name]
