"""Versioned master secrets and HKDF key derivation.

Why: the gateway holds one master secret per key version (from a file or a KMS) and derives
every working key from it with HKDF-SHA256, one key per *purpose* (``pseudonym:<OIN>``,
``audit``, ``consent``, ``match``, ``payload``). One secret to protect and rotate, yet no two
purposes share a key, so compromising or misusing one derived key says nothing about another.

Versions make rotation possible: a new master secret becomes a new, higher version; the old
versions stay in the ring so that data made under them (pseudonyms, tokens) stays usable.
A ``KeyRing`` is immutable; rotating means building a new ring (``with_new_version``) and
handing it to the components that use it.

Caveat of HKDF: for the same purpose and version, a shorter output is a prefix of a longer
one. Use each purpose string for one algorithm and one key length only.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from pseudonymise.errors import UnknownKeyVersionError

__all__ = ["HKDF_SALT", "MAX_VERSION", "MIN_SECRET_BYTES", "KeyRing"]

#: Fixed, public product salt: binds derived keys to this product and format version.
HKDF_SALT = b"thuiszitterspact-gateway/v1"
#: A master secret shorter than this is refused (256 bits).
MIN_SECRET_BYTES = 32
#: Versions are stored in one byte of every pseudonym, so they range 1..255.
MAX_VERSION = 255

_DERIVE_CACHE_SIZE = 4096


class KeyRing:
    """Versioned master secrets; derives per-purpose keys with HKDF-SHA256 (cached).

    ``KeyRing({1: secret1, 2: secret2})``: versions are integers 1..255, secrets are bytes of
    at least 32 bytes. The highest version is ``current_version``, the one new data is made
    with. ``repr`` never shows a secret.
    """

    __slots__ = ("_current_version", "_derive_cached", "_secrets")

    def __init__(self, secrets: Mapping[int, bytes]) -> None:
        if not secrets:
            raise ValueError("a key ring needs at least one version")
        copied: dict[int, bytes] = {}
        for version, secret in secrets.items():
            if type(version) is not int or not 1 <= version <= MAX_VERSION:
                raise ValueError(f"key versions must be integers from 1 to {MAX_VERSION}")
            if not isinstance(secret, bytes | bytearray | memoryview):
                raise TypeError("master secrets must be bytes")
            if len(secret) < MIN_SECRET_BYTES:
                # Never show the secret; the version is not secret.
                raise ValueError(
                    f"master secret of version {version} is shorter than {MIN_SECRET_BYTES} bytes"
                )
            copied[version] = bytes(secret)
        self._secrets = copied
        self._current_version = max(copied)
        # A per-instance cache: derivation is on the hot path of every pseudonym, and a
        # per-instance cache dies with the ring instead of pinning it in a global cache.
        self._derive_cached = functools.lru_cache(maxsize=_DERIVE_CACHE_SIZE)(self._derive)

    @classmethod
    def generate(cls) -> KeyRing:
        """A ring with one fresh random 32-byte secret as version 1 (tests, development)."""
        return cls({1: os.urandom(MIN_SECRET_BYTES)})

    def with_new_version(self, secret: bytes) -> KeyRing:
        """A new ring holding every version of this one plus ``secret`` as current + 1."""
        return KeyRing({**self._secrets, self._current_version + 1: secret})

    @property
    def current_version(self) -> int:
        """The highest version: the one new keys are derived from by default."""
        return self._current_version

    @property
    def versions(self) -> tuple[int, ...]:
        """All versions held, ascending."""
        return tuple(sorted(self._secrets))

    def __contains__(self, version: object) -> bool:
        return type(version) is int and version in self._secrets

    def derive(self, purpose: str, version: int | None = None, length: int = 32) -> bytes:
        """Derive the ``length``-byte key for ``purpose`` from the master secret ``version``.

        HKDF-SHA256 with salt ``HKDF_SALT`` and info ``<purpose>|<length>`` (UTF-8): the length
        is part of the info because HKDF output of one info is a prefix of a longer output, so
        a 32-byte key for ``audit`` would otherwise be half of the 64-byte AES-SIV key for the
        ``audit`` pseudonym domain. ``version`` defaults
        to the current one. Raises ``UnknownKeyVersionError`` for a version not in the ring.
        """
        if version is None:
            version = self._current_version
        elif type(version) is not int or version not in self._secrets:
            raise UnknownKeyVersionError()
        if type(purpose) is not str or not purpose:
            raise ValueError("purpose must be a non-empty string")
        if type(length) is not int or length < 16:
            raise ValueError("length must be an integer of at least 16")
        return self._derive_cached(purpose, version, length)

    def _derive(self, purpose: str, version: int, length: int) -> bytes:
        hkdf = HKDF(
            algorithm=hashes.SHA256(),
            length=length,
            salt=HKDF_SALT,
            info=f"{purpose}|{length}".encode(),
        )
        return hkdf.derive(self._secrets[version])

    def __repr__(self) -> str:
        return f"KeyRing(versions={self.versions!r}, current_version={self._current_version})"
