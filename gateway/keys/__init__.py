"""The gateway's key store: one master secret per version, and the signing keys per purpose.

Everything symmetric is derived from the master secret with HKDF per purpose and domain
(``pseudonym:<OIN>``, ``audit``, ``consent``, ``match``, ``payload``; see
:class:`pseudonymise.keys.KeyRing`), so that one secret (a file, or a KMS-mounted file) is all an
operator must protect and rotate. Signing keys have a ``kid`` so that they can rotate with overlap,
and one folder per purpose: ``signing/`` for access tokens, ``push/`` for ``Gateway-Signature``,
``receipts/`` for consent receipts (:class:`SigningKeyFolder`).

In development missing keys are generated under ``GATEWAY_KEYS_DIR``; in production they must
exist, because a generated key would silently invalidate every pseudonym and token.

Key custody: files are the default. With ``GATEWAY_PKCS11_MODULE`` set, the signing keys (all
four purposes, or those ``GATEWAY_PKCS11_KEYS`` lists, the audit checkpoint key included) live
on a PKCS#11 token and never leave it (:mod:`gateway.keys.hsm`); callers see the same folders
and key objects either way.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from joserfc.jwk import ECKey

from pseudonymise.keys import KeyRing

from ..config import ConfigurationError, Pkcs11Settings

MASTER_DIR = "master"
SIGNING_DIR = "signing"
PUSH_DIR = "push"
RECEIPTS_DIR = "receipts"

TOKEN, PUSH, RECEIPT, AUDIT = "token", "push", "receipt", "audit"
PURPOSES = (TOKEN, PUSH, RECEIPT)
PURPOSE_DIRS = {TOKEN: SIGNING_DIR, PUSH: PUSH_DIR, RECEIPT: RECEIPTS_DIR}
PURPOSE_NAMES = {
    TOKEN: "token signing key",
    PUSH: "push signing key",
    RECEIPT: "consent receipt signing key",
}
KID_PREFIXES = tuple(f"{purpose}-" for purpose in PURPOSES)
AUDIT_KEY_FILE = "audit-ed25519.pem"
LOGBOEK_PURPOSE = "logboek-subject"
"""HKDF purpose of the Logboek's subject key (``dpl.core.data_subject_id``, AES-SIV): a key
of its own, so the Logboek's holder who gets it can open nothing else."""
LOGBOEK_KEY_LENGTH = 64


def _write_exclusive(path: Path, data: bytes) -> bool:
    """Create ``path`` with mode 0600 unless it exists; True when this call created it.

    O_EXCL makes concurrent first starts (several gunicorn workers) agree on one key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return True


def _publish_exclusive(path: Path, data: bytes) -> bool:
    """Make ``path`` appear complete or not at all (mode 0600); False when it exists.

    Written under a temporary name that no loader globs, then hard-linked into place, so a
    process reloading the directory never reads a half-written key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        temporary.unlink(missing_ok=True)
    return True


def _replace_file(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


@dataclass(frozen=True)
class SigningKey:
    """A private signing key with its JOSE key id and algorithm."""

    kid: str
    alg: str
    private_key: ec.EllipticCurvePrivateKey
    created_at: datetime
    retired_at: datetime | None = None

    @cached_property
    def jwk(self) -> ECKey:
        """The key as a joserfc JWK (private), with ``kid``, ``alg`` and ``use``."""
        return ECKey.import_key(
            self.private_key, parameters={"kid": self.kid, "alg": self.alg, "use": "sig"}
        )

    def public_jwk(self) -> dict:
        """The public half as a JWK dict, for ``/oauth/jwks``."""
        return self.jwk.as_dict(private=False)

    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def by_state(keys: list[SigningKey]) -> tuple[list[SigningKey], list[SigningKey]]:
    """(active, retired), each oldest first: how every key store lists what it holds."""
    active = sorted((k for k in keys if not k.retired_at), key=lambda k: (k.created_at, k.kid))
    retired = sorted((k for k in keys if k.retired_at), key=lambda k: (k.created_at, k.kid))
    return active, retired


class SigningKeyFolder:
    """The rotating ES256 keys of one purpose, in their own folder under ``GATEWAY_KEYS_DIR``.

    One key per purpose (access tokens, push signatures, consent receipts) so that a signature
    made for one purpose can never be passed off as another: a recipient that trusts only
    ``push-`` keys for ``Gateway-Signature`` cannot be handed an access token or a receipt
    signature, and a leaked push key signs no token. The purpose is visible in the ``kid``
    (``<purpose>-<time>-<random>``); token keys made before this split keep their unprefixed
    ``kid`` and stay token keys.

    Several processes (gunicorn workers, the delivery worker, the CLI) share the folder:
    ``gateway keys rotate`` writes a new key while they run. Files appear atomically (meta
    first, then the PEM by hard link) and every process notices that the folder changed, so a
    new key is used and trusted without a restart (API.md section 2, rotation with overlap).
    """

    def __init__(self, directory: Path, purpose: str) -> None:
        self.purpose = purpose
        self.folder = Path(directory) / PURPOSE_DIRS[purpose]
        self.prefix = f"{purpose}-"
        self.active: list[SigningKey] = []
        self.retired: list[SigningKey] = []
        self._stamp: frozenset | None = None

    def stamp(self) -> frozenset | None:
        """What the folder holds: file names with inode numbers (a replaced file changes its
        inode), so a change is seen even where mtimes are coarse. One ``scandir``."""
        try:
            with os.scandir(self.folder) as entries:
                return frozenset((e.name, e.inode()) for e in entries if e.name[0] != ".")
        except FileNotFoundError:
            return None

    def _kid_allowed(self, kid: str) -> bool:
        """A folder holds only its own purpose's kids; the token folder also holds the
        unprefixed kids of before the split, but never another purpose's prefix."""
        if kid.startswith(self.prefix):
            return True
        return self.purpose == TOKEN and not kid.startswith(KID_PREFIXES)

    def read(self) -> tuple[list[SigningKey], list[SigningKey]]:
        """(active, retired) keys on disk, each sorted oldest first."""
        keys: list[SigningKey] = []
        for path in sorted(self.folder.glob("*.pem")) if self.folder.is_dir() else ():
            if not self._kid_allowed(path.stem):
                raise ConfigurationError(
                    f"GATEWAY_KEYS_DIR: {PURPOSE_DIRS[self.purpose]}/{path.name} is not a "
                    f"{self.purpose} key (its kid must start with {self.prefix!r})"
                )
            meta_path = path.with_suffix(".json")
            meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
            private = serialization.load_pem_private_key(path.read_bytes(), password=None)
            created = (
                meta.get("created_at")
                or datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat()
            )
            retired_at = meta.get("retired_at")
            key = SigningKey(
                kid=path.stem,
                alg=meta.get("alg", "ES256"),
                private_key=private,
                created_at=datetime.fromisoformat(created),
                retired_at=datetime.fromisoformat(retired_at) if retired_at else None,
            )
            keys.append(key)
        return by_state(keys)

    def load(self) -> None:
        stamp = self.stamp()
        self.active, self.retired = self.read()
        self._stamp = stamp

    def refresh(self) -> bool:
        """Reload when the folder changed since the last load; costs one ``stat`` when
        nothing changed, so it runs before every signature and verification. True when the
        keys were reloaded."""
        stamp = self.stamp()
        if stamp == self._stamp:
            return False
        try:
            active, retired = self.read()
        except (OSError, ValueError):
            return False  # a file being replaced right now; the next call retries
        if active:
            self.active, self.retired = active, retired
            self._stamp = stamp
        return True

    def key(self, kid: str) -> SigningKey | None:
        """The active (not retired) key ``kid``, as the folder holds it now."""
        self.refresh()
        return next((key for key in self.active if key.kid == kid), None)

    def add(self) -> SigningKey:
        """Create a new ES256 key; it becomes the current one of this purpose."""
        now = datetime.now(UTC)
        kid = f"{self.prefix}{now:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
        key = SigningKey(kid, "ES256", ec.generate_private_key(ec.SECP256R1()), now)
        meta = {"alg": key.alg, "created_at": now.isoformat(), "purpose": self.purpose}
        _publish_exclusive(self.folder / f"{kid}.json", json.dumps(meta).encode())
        _publish_exclusive(self.folder / f"{kid}.pem", key.private_pem())
        self.active = [*self.active, key]
        return key

    def retire(self, kid: str) -> SigningKey:
        """Stop publishing and trusting ``kid``; what it signed stops verifying at once.

        The current key cannot be retired (rotate first), so a process can always sign.
        """
        self.refresh()
        if kid == self.current.kid:
            raise ConfigurationError(f"{kid} is the current {self.purpose} key; rotate first")
        if not any(key.kid == kid for key in self.active):
            raise ConfigurationError(f"no active {self.purpose} key {kid}")
        meta_path = self.folder / f"{kid}.json"
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else {"alg": "ES256"}
        meta["retired_at"] = datetime.now(UTC).isoformat()
        _replace_file(meta_path, json.dumps(meta).encode())
        self.refresh()
        return next(key for key in self.retired if key.kid == kid)

    @property
    def current(self) -> SigningKey:
        """The newest active key: the one every new signature of this purpose uses."""
        return self.active[-1]


class KeyStore:
    """Loads (and in development creates) the keys under one directory.

    With ``pkcs11`` settings the signing keys it names (``GATEWAY_PKCS11_KEYS``) live on a
    PKCS#11 token instead (gateway/keys/hsm.py); the master secret is always a file.
    """

    def __init__(
        self, directory: Path, *, allow_generate: bool, pkcs11: Pkcs11Settings | None = None
    ) -> None:
        self.directory = Path(directory)
        self.allow_generate = allow_generate
        self.generated: list[str] = []
        self.on_token: frozenset[str] = frozenset(pkcs11.purposes if pkcs11 else ())
        self.token = None
        if pkcs11 is not None:
            from .hsm import Token

            self.token = Token(pkcs11)
        self.keyring = self._load_master()
        self.folders = {purpose: self._load_folder(purpose) for purpose in PURPOSES}
        self.audit_key = self._load_audit_key()

    # master secret -----------------------------------------------------------------------
    def _master_files(self) -> dict[int, Path]:
        folder = self.directory / MASTER_DIR
        found = {}
        if folder.is_dir():
            for path in folder.glob("v*.key"):
                try:
                    found[int(path.stem[1:])] = path
                except ValueError:
                    continue
        return found

    def _load_master(self) -> KeyRing:
        files = self._master_files()
        if not files:
            self._require_generation("master secret")
            secret = base64.b64encode(secrets.token_bytes(32))
            _write_exclusive(self.directory / MASTER_DIR / "v1.key", secret + b"\n")
            self.generated.append("master secret")
            files = self._master_files()
        secrets_by_version = {}
        for version, path in files.items():
            raw = base64.b64decode(path.read_bytes().strip(), validate=True)
            if len(raw) < 32:
                raise ConfigurationError(f"GATEWAY_KEYS_DIR: {path.name} is shorter than 32 bytes")
            secrets_by_version[version] = raw
        return KeyRing(secrets_by_version)

    def rotate_master(self) -> int:
        """Add a new master version; older versions stay readable."""
        version = max(self._master_files(), default=0) + 1
        secret = base64.b64encode(secrets.token_bytes(32))
        _write_exclusive(self.directory / MASTER_DIR / f"v{version}.key", secret + b"\n")
        self.keyring = self._load_master()
        return version

    # signing keys, one folder per purpose ------------------------------------------------
    def _load_folder(self, purpose: str) -> SigningKeyFolder:
        if purpose in self.on_token:
            from .hsm import TokenKeyFolder

            folder = TokenKeyFolder(self.token, purpose)
        else:
            folder = SigningKeyFolder(self.directory, purpose)
        folder.load()
        if not folder.active:
            what = PURPOSE_NAMES[purpose]
            self._require_generation(what, on_token=purpose in self.on_token)
            folder.add()
            self.generated.append(what)
            folder.load()
        return folder

    @property
    def tokens(self) -> SigningKeyFolder:
        return self.folders[TOKEN]

    @property
    def push(self) -> SigningKeyFolder:
        return self.folders[PUSH]

    @property
    def receipts(self) -> SigningKeyFolder:
        return self.folders[RECEIPT]

    # the token keys under their historical names (oauth, readiness and tests use them)
    @property
    def signing_keys(self) -> list[SigningKey]:
        return self.tokens.active

    @property
    def retired_signing_keys(self) -> list[SigningKey]:
        return self.tokens.retired

    def refresh_signing(self) -> bool:
        """Reload the token keys when their folder changed (:meth:`SigningKeyFolder.refresh`)."""
        return self.tokens.refresh()

    def signing_key(self, kid: str) -> SigningKey | None:
        """The active token key ``kid``: a push or receipt key never verifies a token."""
        return self.tokens.key(kid)

    def add_signing_key(self) -> SigningKey:
        return self.tokens.add()

    def retire_signing_key(self, kid: str) -> SigningKey:
        return self.tokens.retire(kid)

    @property
    def current_signing_key(self) -> SigningKey:
        """The newest active token key: the one every new access token uses."""
        return self.tokens.current

    def purpose_of(self, kid: str) -> str | None:
        """Which purpose's folder holds ``kid`` (active or retired), if any."""
        for purpose, folder in self.folders.items():
            folder.refresh()
            if any(key.kid == kid for key in (*folder.active, *folder.retired)):
                return purpose
        return None

    # audit checkpoint key ------------------------------------------------------------------
    def _load_audit_key(self) -> ed25519.Ed25519PrivateKey:
        if AUDIT in self.on_token:
            from .hsm import audit_key

            key, created = audit_key(self.token, generate=self.allow_generate)
            if created:
                self.generated.append("audit checkpoint key")
            return key
        path = self.directory / AUDIT_KEY_FILE
        if not path.exists():
            self._require_generation("audit checkpoint key")
            pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            _write_exclusive(path, pem)
            self.generated.append("audit checkpoint key")
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ConfigurationError(f"GATEWAY_KEYS_DIR: {AUDIT_KEY_FILE} is not an Ed25519 key")
        return key

    # the Logboek's subject key ------------------------------------------------------------
    def logboek_key(self, version: int | None = None) -> tuple[bytes, int]:
        """The AES-SIV key (64 bytes) of ``dpl.core.data_subject_id`` and its master version
        (the current one by default; older versions stay derivable, so records written before
        a master rotation still open)."""
        version = self.keyring.current_version if version is None else version
        return self.keyring.derive(LOGBOEK_PURPOSE, version, LOGBOEK_KEY_LENGTH), version

    def _require_generation(self, what: str, *, on_token: bool = False) -> None:
        if not self.allow_generate and on_token:
            raise ConfigurationError(
                f"the PKCS#11 token has no {what}; production refuses to generate keys: "
                "run 'gateway keys hsm-init' first"
            )
        if not self.allow_generate:
            raise ConfigurationError(
                f"GATEWAY_KEYS_DIR ({self.directory}) has no {what}; production refuses to "
                "generate keys: provision them first"
            )

    @property
    def loaded(self) -> bool:
        return bool(self.keyring.versions) and all(f.active for f in self.folders.values())
