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
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

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


@dataclass(frozen=True)
class SigningKey:
    """A private signing key with its JOSE key id and algorithm."""

    kid: str
    alg: str
    private_key: ec.EllipticCurvePrivateKey
    created_at: datetime

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
    def _load_signing(self) -> list[SigningKey]:
        folder = self.directory / SIGNING_DIR
        keys = []
        if folder.is_dir():
            for path in sorted(folder.glob("*.pem")):
                meta_path = path.with_suffix(".json")
                meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
                private = serialization.load_pem_private_key(path.read_bytes(), password=None)
                created = (
                    meta.get("created_at")
                    or datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat()
                )
                keys.append(
                    SigningKey(
                        kid=path.stem,
                        alg=meta.get("alg", "ES256"),
                        private_key=private,
                        created_at=datetime.fromisoformat(created),
                    )
                )
        if not keys:
            self._require_generation("token signing key")
            self.add_signing_key()
            self.generated.append("token signing key")
            return self._load_signing()
        keys.sort(key=lambda k: (k.created_at, k.kid))
        return keys

    def add_signing_key(self) -> SigningKey:
        """Create a new ES256 signing key; it becomes the current one."""
        now = datetime.now(UTC)
        kid = f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
        key = SigningKey(kid, "ES256", ec.generate_private_key(ec.SECP256R1()), now)
        folder = self.directory / SIGNING_DIR
        _write_exclusive(folder / f"{kid}.pem", key.private_pem())
        meta = {"alg": key.alg, "created_at": now.isoformat()}
        _write_exclusive(folder / f"{kid}.json", json.dumps(meta).encode())
        self.signing_keys = [*getattr(self, "signing_keys", []), key]
        return key

    @property
    def current_signing_key(self) -> SigningKey:
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
