"""Domain pseudonyms: deterministic, reversible only by the gateway, different per domain.

Why this construction: a pseudonym must be deterministic within a domain (the same child gives
the same string every time, so a recipient can link its own records), unlinkable across
domains (two organisations cannot join their data on it), reversible by the gateway alone
(re-identification, translation between organisations), and must not contain the BSN. A
keyed hash would not be reversible without a lookup table; deterministic authenticated
encryption is. So a pseudonym is

    base64url_nopad( version (1 byte) || AES-SIV(key(domain, version), bsn digits, ad=[domain]) )

where ``key(domain, version)`` is the 64-byte HKDF output ``KeyRing.derive(domain, version)``.
AES-SIV (RFC 5297) is misuse-resistant deterministic AEAD: equal inputs give equal output,
and any change to the string, or decrypting under another domain, fails authentication. The
result is 35 characters of ``A-Za-z0-9_-``; it is pseudorandom, so the chance that it contains
the child's nine digits as a substring is about 27 * 64**-9 (~1.5e-15) per pseudonym.

Domains are ``pseudonym:<20-digit OIN>`` (an organisation's own domain, see
``organisation_domain``) or one of the internal domains ``audit``, ``consent`` and ``match``.
Other strings are refused with ``ValueError``, so a missing prefix or a typo cannot silently
create a new, never-matching domain, and so a key purpose meant for something else (such as
``payload``) is never used as a pseudonym key.

Key rotation: after a new master version is added to the ``KeyRing`` (and a new
``DomainPseudonymiser`` is made with it), ``pseudonymise`` issues pseudonyms under the new
version, so recipients see a *new* pseudonym string for the same child. Pseudonyms of older
versions that are still in the ring stay valid: ``reveal`` and ``translate`` accept them, and
``translate`` always emits the current version. Dropping a version from the ring retires its
pseudonyms (they then raise ``UnknownPseudonymError``).
"""

from __future__ import annotations

import binascii
import functools
import re
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from pseudonymise.bsn import Bsn, is_valid_bsn
from pseudonymise.errors import InvalidBsnError, UnknownKeyVersionError, UnknownPseudonymError
from pseudonymise.keys import KeyRing
from pseudonymise.link import LinkTag

__all__ = [
    "FIXED_DOMAINS",
    "LINK_PSEUDONYM_LENGTH",
    "MAX_PSEUDONYM_LENGTH",
    "ORGANISATION_DOMAIN_PREFIX",
    "PSEUDONYM_LENGTH",
    "DomainPseudonymiser",
    "organisation_domain",
]

#: Upper bound the API promises for any pseudonym (the current format uses ``PSEUDONYM_LENGTH``).
MAX_PSEUDONYM_LENGTH = 128
#: Length of a pseudonym of the current format: 1 + 16 (SIV) + 9 bytes, base64url unpadded.
PSEUDONYM_LENGTH = 35
ORGANISATION_DOMAIN_PREFIX = "pseudonym:"
FIXED_DOMAINS = frozenset({"audit", "consent", "match"})

_KEY_LENGTH = 64  # AES-SIV with two AES-256 keys
_RAW_LENGTH = 1 + 16 + 9
#: A link pseudonym (polymorphic mode): 1 + 16 (SIV) + 32 bytes, base64url unpadded.
LINK_PSEUDONYM_LENGTH = 66
_LINK_RAW_LENGTH = 1 + 16 + 32
_LINK_AD = b"link"
_PSEUDONYM_RE = re.compile(r"[A-Za-z0-9_-]+")
_ORGANISATION_DOMAIN_RE = re.compile(r"pseudonym:[0-9]{20}")
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_TO_URLSAFE_REVERSE = bytes.maketrans(b"-_", b"+/")
_CIPHER_CACHE_SIZE = 4096

_b2a = binascii.b2a_base64
_a2b = binascii.a2b_base64

# What one cache entry holds: encrypt, decrypt, associated data, version prefix byte.
_Cipher = tuple[
    Callable[[bytes, list[bytes]], bytes], Callable[[bytes, list[bytes]], bytes], list[bytes], bytes
]


def organisation_domain(oin: str) -> str:
    """The pseudonym domain of the organisation with this OIN (20 ASCII digits)."""
    domain = ORGANISATION_DOMAIN_PREFIX + oin
    if type(oin) is not str or not _ORGANISATION_DOMAIN_RE.fullmatch(domain):
        raise ValueError("an OIN is exactly 20 ASCII digits")
    return domain


def _check_domain(domain: str) -> None:
    if type(domain) is not str or not (
        domain in FIXED_DOMAINS or _ORGANISATION_DOMAIN_RE.fullmatch(domain)
    ):
        raise ValueError(
            "a pseudonym domain is 'pseudonym:<20-digit OIN>', 'audit', 'consent' or 'match'"
        )


def _encode(raw: bytes) -> str:
    # binascii + translate is measurably faster than base64.urlsafe_b64encode().rstrip().
    return _b2a(raw, newline=False).translate(_TO_URLSAFE, b"=").decode("ascii")


class DomainPseudonymiser:
    """Issues, reverses and translates domain pseudonyms under a ``KeyRing``.

    Thread-safe (no mutable state besides the cipher cache, and ``functools.lru_cache`` is
    thread-safe). The key ring is fixed at construction; after a rotation make a new one.
    """

    __slots__ = ("_cipher", "_current_version", "_keyring")

    def __init__(self, keyring: KeyRing) -> None:
        self._keyring = keyring
        self._current_version = keyring.current_version
        # Building an AESSIV object means an HKDF derivation and a key schedule; pseudonyms of
        # a handful of domains are issued millions of times, so keep them, bounded.
        self._cipher: Callable[[str, int], _Cipher] = functools.lru_cache(
            maxsize=_CIPHER_CACHE_SIZE, typed=True
        )(self._make_cipher)

    @property
    def keyring(self) -> KeyRing:
        return self._keyring

    @property
    def current_version(self) -> int:
        """The key version new pseudonyms are issued under."""
        return self._current_version

    def _make_cipher(self, domain: str, version: int) -> _Cipher:
        _check_domain(domain)
        siv = AESSIV(self._keyring.derive(domain, version, length=_KEY_LENGTH))
        return siv.encrypt, siv.decrypt, [domain.encode("ascii")], bytes((version,))

    def pseudonymise(self, bsn: Bsn, domain: str, version: int | None = None) -> str:
        """The pseudonym of ``bsn`` in ``domain``, under ``version`` (default: current).

        Raises ``UnknownKeyVersionError`` for a version not in the ring, ``ValueError`` for
        a string that is not a pseudonym domain, ``TypeError`` when ``bsn`` is not a ``Bsn``.
        """
        if type(bsn) is not Bsn:
            raise TypeError("pseudonymise() takes a Bsn, not a plain value")
        encrypt, _, ad, prefix = self._cipher(
            domain, self._current_version if version is None else version
        )
        return _encode(prefix + encrypt(bsn.digits.encode("ascii"), ad))

    def pseudonymise_link(self, link: LinkTag, domain: str, version: int | None = None) -> str:
        """The pseudonym in ``domain`` of a child known only by its polymorphic link tag.

        In polymorphic mode the gateway never sees a BSN, only the tag ``t*M`` that the sender
        proved belongs to its ciphertext. Internal domains (audit, consent, match) still need
        one stable, translatable string per child, so the tag is encrypted like a BSN:
        ``version || AES-SIV(key(domain, version), tag, ad=[domain, "link"])``, 66 characters.
        The extra associated data keeps the two kinds apart: a BSN pseudonym never reveals as
        a tag, nor the reverse. Revealing one gives the tag, which without the link secret
        (held by partners, never by the gateway) cannot be tested against any BSN.
        """
        if type(link) is not LinkTag:
            raise TypeError("pseudonymise_link() takes a LinkTag")
        encrypt, _, ad, prefix = self._cipher(
            domain, self._current_version if version is None else version
        )
        return _encode(prefix + encrypt(link.value, [*ad, _LINK_AD]))

    def reveal_link(self, pseudonym: str, domain: str) -> LinkTag:
        """The link tag behind a link pseudonym of ``domain``; ``UnknownPseudonymError`` else."""
        raw = self._decode(pseudonym, LINK_PSEUDONYM_LENGTH, _LINK_RAW_LENGTH)
        if raw[0] not in self._keyring:
            raise UnknownKeyVersionError()
        _, decrypt, ad, _ = self._cipher(domain, raw[0])
        try:
            return LinkTag(decrypt(raw[1:], [*ad, _LINK_AD]))
        except (InvalidTag, ValueError):
            raise UnknownPseudonymError() from None

    def pseudonymise_child(
        self, child: Bsn | LinkTag, domain: str, version: int | None = None
    ) -> str:
        """``pseudonymise`` for a BSN, ``pseudonymise_link`` for a polymorphic child."""
        if type(child) is LinkTag:
            return self.pseudonymise_link(child, domain, version)
        return self.pseudonymise(child, domain, version)

    def pseudonymise_child_versions(self, child: Bsn | LinkTag, domain: str) -> tuple[str, ...]:
        """The child's pseudonyms in ``domain`` under every key version held, current first:
        what was stored before a master-key rotation is found by any of them."""
        versions = sorted(self.keyring.versions, reverse=True)
        return tuple(self.pseudonymise_child(child, domain, v) for v in versions)

    def reveal_child(self, pseudonym: str, domain: str) -> Bsn | LinkTag:
        """The BSN or the link tag behind a pseudonym of either kind in ``domain``."""
        if type(pseudonym) is str and len(pseudonym) == LINK_PSEUDONYM_LENGTH:
            return self.reveal_link(pseudonym, domain)
        return self.reveal(pseudonym, domain)

    def issuer(self, domain: str, version: int | None = None) -> Callable[[str], str]:
        """A function mapping a BSN *string* to its pseudonym in ``domain``, for hot loops.

        Bulk jobs read BSNs as text and must validate each one anyway; building a ``Bsn`` per
        row and looking up the cipher per call would double that work. The returned function
        validates with ``is_valid_bsn`` (raising ``InvalidBsnError``) and then encrypts with a
        cipher bound once. Its output is identical to ``pseudonymise``.
        """
        encrypt, _, ad, prefix = self._cipher(
            domain, self._current_version if version is None else version
        )

        def issue(value: str) -> str:
            if not is_valid_bsn(value):
                raise InvalidBsnError()
            return _encode(prefix + encrypt(value.encode("ascii"), ad))

        return issue

    def reveal(self, pseudonym: str, domain: str) -> Bsn:
        """The BSN behind ``pseudonym`` if it was issued in ``domain`` by this gateway.

        Any failure (malformed, tampered, another domain, unknown key version) raises
        ``UnknownPseudonymError`` (``UnknownKeyVersionError`` for the version case) with a
        fixed message and no chained cause, so nothing about the input leaks.
        """
        raw = self._decode(pseudonym)
        version = raw[0]
        if version not in self._keyring:
            raise UnknownKeyVersionError()
        _, decrypt, ad, _ = self._cipher(domain, version)
        try:
            digits = decrypt(raw[1:], ad)
        except InvalidTag:
            raise UnknownPseudonymError() from None
        value = digits.decode("ascii", "replace")
        if not is_valid_bsn(value):  # only reachable if a key was misused
            raise UnknownPseudonymError()
        return Bsn(value)

    def translate(self, pseudonym: str, from_domain: str, to_domain: str) -> str:
        """Re-issue a pseudonym of ``from_domain`` in ``to_domain`` under the current version.

        The BSN exists only inside this call: it is neither returned nor logged.
        """
        return self.pseudonymise_child(self.reveal_child(pseudonym, from_domain), to_domain)

    def version_of(self, pseudonym: str) -> int:
        """The key version a pseudonym claims, read from its format (not authenticated).

        Raises ``UnknownPseudonymError`` if it is malformed and ``UnknownKeyVersionError`` if
        the version is not in the ring. Use it to spot pseudonyms due for re-issue after a
        rotation; only ``reveal`` proves a pseudonym genuine.
        """
        version = self._decode(pseudonym)[0]
        if version not in self._keyring:
            raise UnknownKeyVersionError()
        return version

    @staticmethod
    def _decode(
        pseudonym: str, length: int = PSEUDONYM_LENGTH, raw_length: int = _RAW_LENGTH
    ) -> bytes:
        """Check alphabet, length and canonical encoding, then base64url-decode."""
        if (
            type(pseudonym) is not str
            or len(pseudonym) != length
            or not _PSEUDONYM_RE.fullmatch(pseudonym)
        ):
            raise UnknownPseudonymError()
        std = pseudonym.encode("ascii").translate(_TO_URLSAFE_REVERSE)
        try:
            raw = _a2b(std + b"=" * (-len(std) % 4))
        except (binascii.Error, ValueError):
            raise UnknownPseudonymError() from None
        # Base64 leaves spare bits in the last character; accept only the one canonical
        # spelling, so one pseudonym has exactly one string form.
        if len(raw) != raw_length or _encode(raw) != pseudonym:
            raise UnknownPseudonymError()
        return raw
