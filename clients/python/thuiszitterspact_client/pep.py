"""Partner-side polymorphic pseudonymisation: encrypt a BSN, open a pseudonym, reply by it.

Why a partner does this itself: in polymorphic mode the gateway must never see a BSN. The
partner encrypts the child's element under the master public key (whose private half no one
at the gateway holds) and proves which child it means with a link tag; the gateway
transcrypts the ciphertext into the recipient's domain, and only the recipient, with its key
share, can open it, finding its own stable pseudonym for the child.

Wire format: ``docs/polymorphic.md`` in the gateway repository. This module is
self-contained (pysodium only) so partners need nothing from the gateway's code.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from thuiszitterspact_client import encoding, group
from thuiszitterspact_client.bsn import bsn_element, check_bsn
from thuiszitterspact_client.errors import EncodingError, KeyShareError, PepError, WrongKeyError
from thuiszitterspact_client.proofs import (
    CIPHERTEXT_BYTES,
    Ciphertext,
    decrypt,
    encrypt,
    prove_equal,
    prove_link,
)

GROUP = "ristretto255"
DOMAIN_PREFIX = "pseudonym:"
_MAX_EXCHANGE_ID = 128


def _element_b64(data: Mapping[str, Any], name: str) -> bytes:
    return group.element(encoding.decode(data.get(name), group.ELEMENT_BYTES))


def _scalar_b64(data: Mapping[str, Any], name: str) -> bytes:
    return group.scalar(encoding.decode(data.get(name), group.SCALAR_BYTES))


def check_oin(oin: object) -> str:
    """An OIN is 20 ASCII digits; it is the proof context, so a typo would fail at the gateway."""
    if type(oin) is not str or len(oin) != 20 or not oin.isascii() or not oin.isdigit():
        raise ValueError("An OIN is 20 ASCII digits.")
    return oin


def _check_exchange_id(exchange_id: object) -> str:
    if (
        type(exchange_id) is not str
        or not 0 < len(exchange_id) <= _MAX_EXCHANGE_ID
        or not exchange_id.isascii()
        or not exchange_id.isprintable()
    ):
        raise ValueError("An exchange id is 1 to 128 printable ASCII characters.")
    return exchange_id


@dataclass(frozen=True, slots=True)
class PublicKeys:
    """The gateway's published keys (``GET /api/v1/pep/public-key``): ``Y`` and ``T``."""

    version: Any
    master_public_key: bytes
    link_public_key: bytes

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PublicKeys:
        if not isinstance(data, Mapping) or data.get("group") != GROUP:
            raise EncodingError("The public keys are not for the ristretto255 group.")
        return cls(
            version=data.get("version"),
            master_public_key=_element_b64(data, "master_public_key"),
            link_public_key=_element_b64(data, "link_public_key"),
        )


@dataclass(frozen=True, slots=True, repr=False)
class KeyShare:
    """One organisation's key share: its decryption key ``y_R`` and the link secret ``t``.

    Both are secret: ``y_R`` opens every pseudonym sent to the organisation, and ``t`` lets
    whoever holds it test candidate BSNs against the link tags the gateway stores. ``repr``
    and ``str`` therefore show neither, and the secrets compare in constant time.
    """

    domain: str
    organisation: str
    version: Any
    secret_key: bytes = field(compare=False)
    public_key: bytes
    master_public_key: bytes
    link_secret: bytes = field(compare=False)
    link_public_key: bytes

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str | bytes) -> KeyShare:
        """Parse (and :meth:`verify`) the plaintext of the key-share JWE."""
        if isinstance(data, str | bytes):
            try:
                data = json.loads(data)
            except ValueError:
                raise KeyShareError() from None
        if not isinstance(data, Mapping):
            raise KeyShareError()
        domain, organisation = data.get("domain"), data.get("organisation")
        if type(domain) is not str or type(organisation) is not str:
            raise KeyShareError()
        try:
            share = cls(
                domain=domain,
                organisation=organisation,
                version=data.get("version"),
                secret_key=_scalar_b64(data, "secret_key"),
                public_key=_element_b64(data, "public_key"),
                master_public_key=_element_b64(data, "master_public_key"),
                link_secret=_scalar_b64(data, "link_secret"),
                link_public_key=_element_b64(data, "link_public_key"),
            )
        except EncodingError:
            raise KeyShareError() from None
        share.verify()
        return share

    def verify(self) -> None:
        """The secrets fit their public halves and the domain is the organisation's own."""
        if not hmac.compare_digest(group.mul_base(self.secret_key), self.public_key):
            raise KeyShareError("The key share's public_key is not secret_key*G.")
        if not hmac.compare_digest(group.mul_base(self.link_secret), self.link_public_key):
            raise KeyShareError("The key share's link_public_key is not link_secret*G.")
        if self.domain != DOMAIN_PREFIX + self.organisation:
            raise KeyShareError("The key share's domain is not pseudonym:<its organisation>.")

    def check_public_keys(self, public: PublicKeys) -> None:
        """The share belongs to the keys the gateway publishes now (not an older issue)."""
        if (
            self.master_public_key != public.master_public_key
            or self.link_public_key != public.link_public_key
        ):
            raise KeyShareError(
                "The key share does not match the gateway's published public keys; "
                "ask the operator to issue a new one."
            )

    def __repr__(self) -> str:
        return (
            f"KeyShare(domain={self.domain!r}, version={self.version!r}, "
            "secret_key=<hidden>, link_secret=<hidden>)"
        )

    __str__ = __repr__


def polymorphic_subject(
    bsn: str, oin: str, public: PublicKeys, link_secret: bytes
) -> dict[str, str]:
    """``{"polymorphic": base64(ciphertext under Y (96) || link tag (32) || link proof (128))}``.

    ``oin`` is the sending organisation's OIN: the proof's context, so the gateway refuses it
    from anyone else. Every call makes a fresh, unlinkable ciphertext of the same child.
    """
    message = bsn_element(check_bsn(bsn))
    check_oin(oin)
    link_secret = group.scalar(link_secret)
    if not hmac.compare_digest(group.mul_base(link_secret), public.link_public_key):
        raise KeyShareError("The link secret does not match the published link public key.")
    randomness = group.random_scalar()
    ciphertext = encrypt(message, public.master_public_key, randomness)
    tag = group.mul(link_secret, message)
    proof = prove_link(ciphertext, randomness, link_secret, tag, oin.encode("ascii"))
    return {"polymorphic": encoding.encode(ciphertext.to_bytes() + tag + proof)}


def _received_ciphertext(encrypted_b64: str, share: KeyShare) -> Ciphertext:
    ciphertext = Ciphertext.from_bytes(encoding.decode(encrypted_b64, CIPHERTEXT_BYTES))
    if ciphertext.y != share.public_key:
        raise WrongKeyError()
    return ciphertext


def decrypt_pseudonym(encrypted_b64: str, share: KeyShare) -> str:
    """The domain pseudonym (base64url, no padding, 43 characters) in a received ciphertext.

    ``WrongKeyError`` when the ciphertext is not under ``share.public_key``: decrypting it
    anyway would give a random-looking element, silently the wrong child.
    """
    element = decrypt(_received_ciphertext(encrypted_b64, share), share.secret_key)
    if element == group.IDENTITY:
        raise EncodingError()
    return encoding.encode_url(element)


def reply_subject(
    pseudonym: str,
    received_exchange_id: str,
    received_encrypted_b64: str,
    share: KeyShare,
    oin: str,
) -> dict[str, str]:
    """A subject naming the child by one's own pseudonym, proven to be the received child.

    ``{"encrypted_pseudonym": base64(new ciphertext (96) || equality proof (64)),
    "received_in": <id>}``: the new ciphertext is a fresh encryption of the pseudonym under
    the organisation's own public key; the proof (context ``oin|id``) shows it holds the same
    element as the ciphertext delivered in exchange ``received_exchange_id``.
    """
    exchange_id = _check_exchange_id(received_exchange_id)
    check_oin(oin)
    try:
        element = group.element(encoding.decode_url(pseudonym, group.ELEMENT_BYTES))
    except EncodingError:
        raise EncodingError("Not a domain pseudonym (43 characters of base64url).") from None
    received = _received_ciphertext(received_encrypted_b64, share)
    if not hmac.compare_digest(decrypt(received, share.secret_key), element):
        raise PepError("The pseudonym is not the one in the received exchange.")
    fresh = encrypt(element, share.public_key, group.random_scalar())
    context = f"{oin}|{exchange_id}".encode("ascii")
    proof = prove_equal(fresh, received, share.secret_key, context)
    return {
        "encrypted_pseudonym": encoding.encode(fresh.to_bytes() + proof),
        "received_in": exchange_id,
    }
