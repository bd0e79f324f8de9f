"""C2SP signed notes carrying C2SP tlog-checkpoints, signed with Ed25519.

A checkpoint note (c2sp.org/tlog-checkpoint, c2sp.org/signed-note)::

    <origin>
    <tree size>
    <base64 root hash>
    timestamp <RFC 3339 time>

    — <key name> <base64(key ID || Ed25519 signature over the text above the blank line)>

The one extension line carries the time of the checkpoint, because the issue asks for a
signed statement of (tree size, root hash, time); the tlog-checkpoint spec allows extension
lines (and only discourages them, as monitors cannot audit them). The key name is the
origin; key ID = SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4]. The verifier key
string is ``<name>+<hex key ID>+<base64(0x01 || public key)>``, as Go's ``note`` package
reads it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

ED25519_TYPE = b"\x01"
SIGNATURE_PREFIX = "\u2014 "
TIMESTAMP_PREFIX = "timestamp "


class NoteError(ValueError):
    """A note is malformed or its signature does not verify."""


def raw_public_key(public_key: ed25519.Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte signed-note key ID of an Ed25519 key under ``name``."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519_TYPE + public_key).digest()[:4]


def verifier_key(name: str, public_key: bytes) -> str:
    """The C2SP verifier key string ``<name>+<hex key ID>+<base64(0x01 || key)>``."""
    encoded = base64.b64encode(ED25519_TYPE + public_key).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


@dataclass(frozen=True)
class CheckpointBody:
    """What a checkpoint states: the log, its size and root, and when."""

    origin: str
    tree_size: int
    root_hash: bytes
    timestamp: str

    def text(self) -> str:
        root = base64.b64encode(self.root_hash).decode()
        return f"{self.origin}\n{self.tree_size}\n{root}\n{TIMESTAMP_PREFIX}{self.timestamp}\n"


class NoteSigner:
    """Signs checkpoint bodies with the gateway's Ed25519 audit key under ``name``."""

    def __init__(self, private_key: ed25519.Ed25519PrivateKey, name: str) -> None:
        if not name or any(c.isspace() or c == "+" for c in name):
            raise ValueError("a note key name is non-empty, without spaces or '+'")
        self._private_key = private_key
        self.name = name
        self.public_key = raw_public_key(private_key.public_key())
        self.key_id = key_id(name, self.public_key)

    @property
    def vkey(self) -> str:
        return verifier_key(self.name, self.public_key)

    def sign(self, body: CheckpointBody) -> str:
        text = body.text()
        signature = self._private_key.sign(text.encode())
        encoded = base64.b64encode(self.key_id + signature).decode()
        return f"{text}\n{SIGNATURE_PREFIX}{self.name} {encoded}\n"


def parse_checkpoint(note: str) -> tuple[CheckpointBody, list[tuple[str, bytes]]]:
    """Split a signed checkpoint note into its body and its (key name, signature) lines."""
    text, separator, signatures = note.rpartition("\n\n")
    if not separator or not note.endswith("\n"):
        raise NoteError("not a signed note")
    text += "\n"
    lines = text.split("\n")[:-1]
    if len(lines) < 3 or any(not line for line in lines):
        raise NoteError("a checkpoint has at least three non-empty lines")
    origin, size, root = lines[0], lines[1], lines[2]
    if not size.isdigit() or not size.isascii() or (size != "0" and size.startswith("0")):
        raise NoteError("malformed tree size")
    try:
        root_hash = base64.b64decode(root, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError("malformed root hash") from None
    stamps = [
        line[len(TIMESTAMP_PREFIX) :] for line in lines[3:] if line.startswith(TIMESTAMP_PREFIX)
    ]
    body = CheckpointBody(origin, int(size), root_hash, stamps[0] if stamps else "")
    if body.text() != text:
        raise NoteError("unexpected extension lines")
    parsed = []
    for line in signatures.split("\n")[:-1]:
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("malformed signature line")
        name, _, value = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            parsed.append((name, base64.b64decode(value, validate=True)))
        except (binascii.Error, ValueError):
            raise NoteError("malformed signature") from None
    if not parsed:
        raise NoteError("no signature")
    return body, parsed


def verify_checkpoint(note: str, public_key: bytes) -> CheckpointBody:
    """The body of ``note`` if it carries a valid signature by ``public_key`` under the name
    of its origin line; :class:`NoteError` otherwise."""
    body, signatures = parse_checkpoint(note)
    expected_id = key_id(body.origin, public_key)
    verifier = ed25519.Ed25519PublicKey.from_public_bytes(public_key)
    found = False
    for name, signature in signatures:
        if name != body.origin or signature[:4] != expected_id:
            continue  # another key's signature: ignored, as the spec says
        found = True
        try:
            verifier.verify(signature[4:], body.text().encode())
        except InvalidSignature:
            raise NoteError("the signature does not verify") from None
    if not found:
        raise NoteError("not signed by the audit key")
    return body
