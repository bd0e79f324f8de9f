"""The gateway's key store: one master secret per version, and the token-signing keys.

Everything symmetric is derived from the master secret with HKDF per purpose and domain
(``pseudonym:<OIN>``, ``audit``, ``consent``, ``match``, ``payload``; see
:class:`pseudonymise.keys.KeyRing`), so that one secret (a file, or a KMS-mounted file) is all an
operator must protect and rotate. Signing keys have a ``kid`` so that they can rotate with overlap.

In development missing keys are generated under ``GATEWAY_KEYS_DIR``; in production they must
exist, because a generated key would silently invalidate every pseudonym and token.
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

from .config import ConfigurationError

MASTER_DIR = "master"
SIGNING_DIR = "signing"
AUDIT_KEY_FILE = "audit-ed25519.pem"


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


class KeyStore:
    """Loads (and in development creates) the keys under one directory."""

    def __init__(self, directory: Path, *, allow_generate: bool) -> None:
        self.directory = Path(directory)
        self.allow_generate = allow_generate
        self.generated: list[str] = []
        self.keyring = self._load_master()
        self.signing_keys = self._load_signing()
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

    # signing keys ------------------------------------------------------------------------
    # Several processes (gunicorn workers, the CLI) share the directory: ``gateway keys
    # rotate`` writes a new key while workers run. Files appear atomically (meta first, then
    # the PEM by hard link) and workers notice that the directory changed, so a new key is
    # used and trusted without a restart (API.md section 2, rotation with overlap).
    def _signing_stamp(self) -> frozenset | None:
        """What the directory holds: file names with inode numbers (a replaced file changes
        its inode), so a change is seen even where mtimes are coarse. One ``scandir``."""
        try:
            with os.scandir(self.directory / SIGNING_DIR) as entries:
                return frozenset((e.name, e.inode()) for e in entries if e.name[0] != ".")
        except FileNotFoundError:
            return None

    def _read_signing_files(self) -> tuple[list[SigningKey], list[SigningKey]]:
        """(active, retired) keys on disk, each sorted oldest first."""
        folder = self.directory / SIGNING_DIR
        active: list[SigningKey] = []
        retired: list[SigningKey] = []
        for path in sorted(folder.glob("*.pem")) if folder.is_dir() else ():
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
            (retired if key.retired_at else active).append(key)
        for keys in (active, retired):
            keys.sort(key=lambda k: (k.created_at, k.kid))
        return active, retired

    def _load_signing(self) -> list[SigningKey]:
        stamp = self._signing_stamp()
        active, retired = self._read_signing_files()
        if not active:
            self._require_generation("token signing key")
            self.add_signing_key()
            self.generated.append("token signing key")
            return self._load_signing()
        self.retired_signing_keys = retired
        self._stamp = stamp
        return active

    def refresh_signing(self) -> bool:
        """Reload the signing keys when the directory changed since the last load.

        Costs one ``stat`` when nothing changed, so it runs before every issue and every
        verification; True when the keys were reloaded.
        """
        stamp = self._signing_stamp()
        if stamp == getattr(self, "_stamp", None):
            return False
        try:
            active, retired = self._read_signing_files()
        except (OSError, ValueError):
            return False  # a file being replaced right now; the next call retries
        if active:
            self.signing_keys, self.retired_signing_keys = active, retired
            self._stamp = stamp
        return True

    def signing_key(self, kid: str) -> SigningKey | None:
        """The active (not retired) signing key ``kid``, as the directory holds it now."""
        self.refresh_signing()
        return next((key for key in self.signing_keys if key.kid == kid), None)

    def add_signing_key(self) -> SigningKey:
        """Create a new ES256 signing key; it becomes the current one."""
        now = datetime.now(UTC)
        kid = f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
        key = SigningKey(kid, "ES256", ec.generate_private_key(ec.SECP256R1()), now)
        folder = self.directory / SIGNING_DIR
        meta = {"alg": key.alg, "created_at": now.isoformat()}
        _publish_exclusive(folder / f"{kid}.json", json.dumps(meta).encode())
        _publish_exclusive(folder / f"{kid}.pem", key.private_pem())
        self.signing_keys = [*getattr(self, "signing_keys", []), key]
        return key

    def retire_signing_key(self, kid: str) -> SigningKey:
        """Stop publishing and trusting ``kid``; tokens it signed stop working at once.

        The current key cannot be retired (rotate first), so a process can always sign.
        """
        self.refresh_signing()
        if kid == self.current_signing_key.kid:
            raise ConfigurationError(f"{kid} is the current signing key; rotate first")
        if not any(key.kid == kid for key in self.signing_keys):
            raise ConfigurationError(f"no active signing key {kid}")
        meta_path = self.directory / SIGNING_DIR / f"{kid}.json"
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else {"alg": "ES256"}
        meta["retired_at"] = datetime.now(UTC).isoformat()
        _replace_file(meta_path, json.dumps(meta).encode())
        self.refresh_signing()
        return next(key for key in self.retired_signing_keys if key.kid == kid)

    @property
    def current_signing_key(self) -> SigningKey:
        """The newest active key: the one every new token and signature uses."""
        return self.signing_keys[-1]

    # audit checkpoint key ------------------------------------------------------------------
    def _load_audit_key(self) -> ed25519.Ed25519PrivateKey:
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

    def _require_generation(self, what: str) -> None:
        if not self.allow_generate:
            raise ConfigurationError(
                f"GATEWAY_KEYS_DIR ({self.directory}) has no {what}; production refuses to "
                "generate keys: provision them first"
            )

    @property
    def loaded(self) -> bool:
        return bool(self.keyring.versions) and bool(self.signing_keys)
