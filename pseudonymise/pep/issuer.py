"""The key issuer: the only holder of the master decryption key and the factor secrets.

Trust model in brief (``docs/polymorphic.md`` has it whole): the issuer runs apart from the
gateway (``gateway keys pep-issue``, its own directory) and hands out

- to everyone: the master public key ``Y = y*G`` and the link public key ``T = t*G``;
- to the gateway (the transcryptor): per domain the reshuffle factor ``s_D`` and the rekey
  factor ``k_D``; never ``y``, never ``t``, never a decryption key;
- to each organisation D, sealed so that only its own client keys open it: its decryption key
  ``y_D = k_D*y`` and the link secret ``t``.

Factors are derived, not stored: ``s_D = HMAC-SHA512(reshuffle secret, D) mod L`` and likewise
``k_D``, so re-running the issuer for a new organisation changes no existing pseudonym.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from pseudonymise.pep import group

SECRET_BYTES = 32


@dataclass(frozen=True)
class DomainFactors:
    """What the transcryptor holds for one domain."""

    domain: str
    # never printed: one rekey factor and any organisation's key share give the master key
    reshuffle: bytes = field(repr=False)
    rekey: bytes = field(repr=False)
    public_key: bytes  # k_D * Y: what ciphertexts for this domain are under


@dataclass(frozen=True)
class KeyShare:
    """What one organisation holds: its decryption key and the link secret."""

    domain: str
    secret_key: bytes
    public_key: bytes
    master_public_key: bytes
    link_secret: bytes
    link_public_key: bytes

    def __repr__(self) -> str:
        return f"KeyShare(domain={self.domain!r}, secret_key=<hidden>, link_secret=<hidden>)"


class KeyIssuer:
    """Derives every polymorphic key from four secrets. ``repr`` never shows one."""

    __slots__ = ("_master", "_link", "_reshuffle_secret", "_rekey_secret")

    def __init__(
        self, master: bytes, link: bytes, reshuffle_secret: bytes, rekey_secret: bytes
    ) -> None:
        self._master = group.scalar(master)
        self._link = group.scalar(link)
        for secret in (reshuffle_secret, rekey_secret):
            if type(secret) is not bytes or len(secret) < SECRET_BYTES:
                raise ValueError(f"factor secrets are at least {SECRET_BYTES} bytes")
        self._reshuffle_secret = reshuffle_secret
        self._rekey_secret = rekey_secret

    @classmethod
    def generate(cls) -> KeyIssuer:
        return cls(
            group.random_scalar(),
            group.random_scalar(),
            os.urandom(SECRET_BYTES),
            os.urandom(SECRET_BYTES),
        )

    def secrets(self) -> dict[str, bytes]:
        """The four secrets, for the issuer's own storage only."""
        return {
            "master": self._master,
            "link": self._link,
            "reshuffle": self._reshuffle_secret,
            "rekey": self._rekey_secret,
        }

    @property
    def master_public_key(self) -> bytes:
        return group.mul_base(self._master)

    @property
    def link_public_key(self) -> bytes:
        return group.mul_base(self._link)

    def factors(self, domain: str) -> DomainFactors:
        reshuffle = _nonzero(group.keyed_scalar(self._reshuffle_secret, "reshuffle:" + domain))
        rekey = _nonzero(group.keyed_scalar(self._rekey_secret, "rekey:" + domain))
        return DomainFactors(domain, reshuffle, rekey, group.mul(rekey, self.master_public_key))

    def key_share(self, domain: str) -> KeyShare:
        factors = self.factors(domain)
        secret_key = group.scalar_mul(factors.rekey, self._master)
        return KeyShare(
            domain=domain,
            secret_key=secret_key,
            public_key=factors.public_key,
            master_public_key=self.master_public_key,
            link_secret=self._link,
            link_public_key=self.link_public_key,
        )

    def __repr__(self) -> str:
        return "KeyIssuer(<secrets hidden>)"


def _nonzero(value: bytes) -> bytes:
    if value == bytes(group.SCALAR_BYTES):  # probability 2^-252; refuse rather than misbehave
        raise ValueError("derived a zero factor; use other secrets")
    return value
