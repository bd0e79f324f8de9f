"""The gateway's side of polymorphic pseudonymisation: what the key issuer gave it, and no more.

``GATEWAY_KEYS_DIR/pep/transcryptor.json`` holds the master and link public keys and, per
organisation that takes part, its reshuffle and rekey factors; ``pep/share-<OIN>.json`` holds
that organisation's key share sealed (JWE) to its own client keys. Nothing here can decrypt a
polymorphic pseudonym or compute a link tag: the master key ``y`` and the link secret ``t``
stay with the issuer (``gateway keys pep-issue``).

The files are re-read when they change, so an organisation enabled by a new issuer run takes
part without a restart, in every process.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from pseudonymise.pep import (
    ElGamal,
    PepError,
    TranscryptionFactors,
    UnknownDomainError,
    transcrypt,
)
from pseudonymise.pep.elgamal import decode_base64
from pseudonymise.pep.group import element, scalar

log = logging.getLogger(__name__)

PEP_DIR = "pep"
TRANSCRYPTOR_FILE = "transcryptor.json"
# flat, so that the whole directory can be one Kubernetes Secret (its keys cannot hold a "/")
SHARE_FILE = "share-{oin}.json"


@dataclass(frozen=True)
class DomainEntry:
    reshuffle: bytes
    rekey: bytes
    public_key: bytes


@dataclass(frozen=True)
class TranscryptorState:
    version: int
    master_public_key: bytes
    link_public_key: bytes
    domains: dict[str, DomainEntry]

    @classmethod
    def from_document(cls, document: dict) -> TranscryptorState:
        domains = {
            oin: DomainEntry(
                scalar(decode_base64(entry["reshuffle"], 32)),
                scalar(decode_base64(entry["rekey"], 32)),
                element(decode_base64(entry["public_key"], 32)),
            )
            for oin, entry in document["domains"].items()
        }
        return cls(
            int(document["version"]),
            element(decode_base64(document["master_public_key"], 32)),
            element(decode_base64(document["link_public_key"], 32)),
            domains,
        )


class Transcryptor:
    """Transcrypts between the master domain and organisation domains; reloads on change."""

    def __init__(self, keys_dir: Path | None) -> None:
        """``keys_dir`` None: a transcryptor that was never issued keys (services built
        outside an application, e.g. by the CLI, answer ``polymorphic_unavailable``)."""
        self._dir = Path(keys_dir) / PEP_DIR if keys_dir is not None else None
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._state: TranscryptorState | None = None
        self._factors: dict[tuple[str | None, str], TranscryptionFactors] = {}

    def state(self) -> TranscryptorState | None:
        """The issued keys, or None while the issuer has not run."""
        if self._dir is None:
            return None
        path = self._dir / TRANSCRYPTOR_FILE
        try:
            info = path.stat()
        except FileNotFoundError:
            return None
        stamp = (info.st_mtime_ns, info.st_size)
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    self._state = self._load(path)
                    self._factors = {}
                    self._stamp = stamp
        return self._state

    @staticmethod
    def _load(path: Path) -> TranscryptorState | None:
        """The file's keys; a damaged file counts as none issued (422/404 answers that say
        so, and one log line naming the file), never a 500 on every polymorphic request."""
        try:
            return TranscryptorState.from_document(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError, AttributeError, PepError):
            log.error("polymorphic keys in %s are unreadable; run gateway keys pep-issue", path)
            return None

    def takes_part(self, oin: str) -> bool:
        state = self.state()
        return state is not None and oin in state.domains

    def domain_public_key(self, oin: str) -> bytes:
        return self._entry(oin).public_key

    def factors(self, source_oin: str | None, target_oin: str) -> TranscryptionFactors:
        """From the master domain (``source_oin`` None) or an organisation's own domain."""
        key = (source_oin, target_oin)
        cached = self._factors.get(key)
        if cached is None:
            state = self.state()
            target = self._entry(target_oin)
            if source_oin is None:
                cached = TranscryptionFactors.between(
                    state.master_public_key, None, (target.reshuffle, target.rekey)
                )
            else:
                source = self._entry(source_oin)
                cached = TranscryptionFactors.between(
                    source.public_key,
                    (source.reshuffle, source.rekey),
                    (target.reshuffle, target.rekey),
                )
            self._factors[key] = cached
        return cached

    def transcrypt(self, ciphertext: ElGamal, source_oin: str | None, target_oin: str) -> ElGamal:
        """Into the target's domain, rerandomised: two deliveries about one child differ."""
        return transcrypt(ciphertext, self.factors(source_oin, target_oin), True)

    def sealed_share(self, oin: str, client_id: str) -> dict | None:
        """``{"kid", "key_share"}`` sealed for this client, or None when none was issued."""
        if self._dir is None:
            return None
        path = self._dir / SHARE_FILE.format(oin=oin)
        try:
            document = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        return document.get("clients", {}).get(client_id)

    def _entry(self, oin: str) -> DomainEntry:
        state = self.state()
        if state is None or oin not in state.domains:
            raise UnknownDomainError()
        return state.domains[oin]
