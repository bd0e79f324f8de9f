"""``gateway keys pep-issue``: the key issuer's run, kept apart from the serving gateway.

The issuer's four secrets live in their own directory (``GATEWAY_PEP_ISSUER_DIR``, default
``instance/pep-issuer``), which the serving gateway never reads; in production it belongs on
another machine or in an HSM-backed vault, and the run needs only the registry's public data
(organisations that take part, their clients' public keys). A run writes, into the gateway's
key directory, the public keys and the transcryption factors, and for every organisation its
key share sealed (JWE, ECDH-ES+A256KW or RSA-OAEP-256 with A256GCM) to each of its clients'
public keys: the gateway stores and serves the sealed shares but cannot open them.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from joserfc import jwe
from joserfc.jwk import ECKey, RSAKey

from pseudonymise import organisation_domain
from pseudonymise.pep import KeyIssuer
from pseudonymise.pep.elgamal import decode_base64, encode_base64

from .transcryptor import PEP_DIR, SHARE_FILE, TRANSCRYPTOR_FILE

ISSUER_FILE = "issuer.json"
KEY_SET_VERSION = 1


class IssuerError(Exception):
    """The issuer cannot run as asked; the message names what to change."""


@dataclass
class Participant:
    """An organisation that takes part, with its clients' public JWKS."""

    oin: str
    clients: dict[str, dict | None]


@dataclass
class IssueReport:
    organisations: list[str] = field(default_factory=list)
    sealed: list[str] = field(default_factory=list)
    unsealed: list[str] = field(default_factory=list)
    created_secrets: bool = False


def load_or_create_issuer(issuer_dir: Path, keys_dir: Path, allow_create: bool) -> tuple:
    """The issuer from its directory; creates the secrets once when allowed."""
    issuer_dir, keys_dir = issuer_dir.resolve(), keys_dir.resolve()
    if issuer_dir == keys_dir or keys_dir in issuer_dir.parents or issuer_dir in keys_dir.parents:
        raise IssuerError(
            "the issuer directory must lie outside GATEWAY_KEYS_DIR (and not contain it): the "
            "serving gateway must never be able to read the master decryption key"
        )
    path = issuer_dir / ISSUER_FILE
    if path.exists():
        return KeyIssuer(**_decode_secrets(json.loads(path.read_text()))), False
    if not allow_create:
        raise IssuerError(f"no issuer secrets in {issuer_dir}; refusing to create them here")
    issuer = KeyIssuer.generate()
    issuer_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    document = {"version": KEY_SET_VERSION}
    document.update({k: encode_base64(v) for k, v in issuer.secrets().items()})
    _write_private(path, json.dumps(document, indent=2).encode())
    return issuer, True


_SECRET_NAMES = {
    "master": "master",
    "link": "link",
    "reshuffle": "reshuffle_secret",
    "rekey": "rekey_secret",
}


def _decode_secrets(document: dict) -> dict:
    return {arg: decode_base64(document[name], 32) for name, arg in _SECRET_NAMES.items()}


def issue(issuer: KeyIssuer, participants: list[Participant], keys_dir: Path) -> IssueReport:
    """Write the transcryptor file and every sealed share into ``keys_dir/pep``."""
    report = IssueReport()
    pep_dir = Path(keys_dir) / PEP_DIR
    domains = {}
    for participant in participants:
        factors = issuer.factors(organisation_domain(participant.oin))
        domains[participant.oin] = {
            "reshuffle": encode_base64(factors.reshuffle),
            "rekey": encode_base64(factors.rekey),
            "public_key": encode_base64(factors.public_key),
        }
        report.organisations.append(participant.oin)
        sealed = {}
        share = issuer.key_share(organisation_domain(participant.oin))
        plaintext = json.dumps(
            {
                "domain": share.domain,
                "organisation": participant.oin,
                "version": KEY_SET_VERSION,
                "secret_key": encode_base64(share.secret_key),
                "public_key": encode_base64(share.public_key),
                "master_public_key": encode_base64(share.master_public_key),
                "link_secret": encode_base64(share.link_secret),
                "link_public_key": encode_base64(share.link_public_key),
            }
        ).encode()
        for client_id, jwks in sorted(participant.clients.items()):
            key = encryption_key(jwks)
            if key is None:
                report.unsealed.append(client_id)
                continue
            kid, algorithm, public = key
            header = {"alg": algorithm, "enc": "A256GCM", "cty": "application/json"}
            if kid:
                header["kid"] = kid
            token = jwe.encrypt_compact(header, plaintext, public)
            sealed[client_id] = {"kid": kid, "key_share": token}
            report.sealed.append(client_id)
        shares = {"organisation": participant.oin, "version": KEY_SET_VERSION, "clients": sealed}
        _replace(pep_dir / SHARE_FILE.format(oin=participant.oin), json.dumps(shares).encode())
    document = {
        "version": KEY_SET_VERSION,
        "group": "ristretto255",
        "issued_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "master_public_key": encode_base64(issuer.master_public_key),
        "link_public_key": encode_base64(issuer.link_public_key),
        "domains": domains,
    }
    _replace(pep_dir / TRANSCRYPTOR_FILE, json.dumps(document, indent=2).encode())
    return report


def encryption_key(jwks: dict | None) -> tuple[str | None, str, object] | None:
    """The client key to seal to: one marked ``use: enc`` first, else its EC or RSA key.

    Sealing to a signing key uses one key for two purposes; a partner who wants them apart
    adds a ``use: enc`` key to its registered JWKS, and the next issuer run prefers it.
    """
    keys = [k for k in (jwks or {}).get("keys", []) if isinstance(k, dict)]
    keys.sort(key=lambda k: k.get("use") != "enc")
    for item in keys:
        if item.get("use") not in (None, "enc", "sig"):
            continue
        public = {k: v for k, v in item.items() if k not in ("use", "alg", "key_ops", "d")}
        try:
            if item.get("kty") == "EC":
                return item.get("kid"), "ECDH-ES+A256KW", ECKey.import_key(public)
            if item.get("kty") == "RSA":
                return item.get("kid"), "RSA-OAEP-256", RSAKey.import_key(public)
        except ValueError:
            continue
    return None


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _replace(path: Path, data: bytes) -> None:
    """Atomic replace (a reader sees the old or the new file, never half of one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)
