"""C2SP signed notes and tlog-checkpoints: format, key ID, verifier key, forgeries."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from gateway.audit.checkpoints import origin_for
from gateway.audit.note import (
    CheckpointBody,
    NoteError,
    NoteSigner,
    parse_checkpoint,
    verify_checkpoint,
)

NAME = "gateway.example.nl/audit"


@pytest.fixture
def signer():
    return NoteSigner(ed25519.Ed25519PrivateKey.generate(), NAME)


def body(size=7, root=b"\x11" * 32):
    return CheckpointBody(NAME, size, root, "2026-03-01T12:00:00.000000Z")


def test_checkpoint_note_has_the_c2sp_layout(signer):
    note = signer.sign(body())
    text, signatures = note.split("\n\n")
    assert text.split("\n") == [
        NAME, "7", base64.b64encode(b"\x11" * 32).decode(), "timestamp 2026-03-01T12:00:00.000000Z",
    ]
    line = signatures.rstrip("\n")
    assert line.startswith("\u2014 " + NAME + " ")
    raw = base64.b64decode(line.split(" ")[2])
    assert len(raw) == 4 + 64
    # key ID per c2sp.org/signed-note: SHA-256(name || 0x0A || 0x01 || key)[:4]
    expected_id = hashlib.sha256(NAME.encode() + b"\n\x01" + signer.public_key).digest()[:4]
    assert raw[:4] == expected_id
    public = ed25519.Ed25519PublicKey.from_public_bytes(signer.public_key)
    public.verify(raw[4:], (text + "\n").encode())  # raises if wrong


def test_verifier_key_string(signer):
    name, key_hash, key = signer.vkey.split("+", 2)  # base64 may hold "+" too
    assert name == NAME
    assert key_hash == hashlib.sha256(NAME.encode() + b"\n\x01" + signer.public_key).digest()[:4].hex()
    assert base64.b64decode(key) == b"\x01" + signer.public_key


def test_round_trip(signer):
    note = signer.sign(body(size=123))
    parsed = verify_checkpoint(note, signer.public_key)
    assert parsed == body(size=123)
    assert parse_checkpoint(note)[0].tree_size == 123


def test_forged_signature_and_changed_text_are_refused(signer):
    note = signer.sign(body())
    other = NoteSigner(ed25519.Ed25519PrivateKey.generate(), NAME)
    with pytest.raises(NoteError):
        verify_checkpoint(other.sign(body()), signer.public_key)  # same name, other key
    with pytest.raises(NoteError):
        verify_checkpoint(note.replace("\n7\n", "\n8\n"), signer.public_key)
    text, sig = note.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(sig))
    raw[10] ^= 1
    with pytest.raises(NoteError):
        verify_checkpoint(text + " " + base64.b64encode(bytes(raw)).decode() + "\n", signer.public_key)


def test_unknown_signatures_are_ignored_but_one_known_is_required(signer):
    note = signer.sign(body())
    stranger = "\u2014 someone.example/log " + base64.b64encode(b"\0\0\0\0" + b"x" * 64).decode() + "\n"
    assert verify_checkpoint(note + stranger, signer.public_key) == body()
    text = note.split("\n\n")[0] + "\n\n"
    with pytest.raises(NoteError):
        verify_checkpoint(text + stranger, signer.public_key)


@pytest.mark.parametrize("broken", [
    "no blank line\n",
    f"{NAME}\n7\n\n\u2014 x AAAA\n",
    f"{NAME}\n07\nAAAA\n\n\u2014 x AAAA\n",
    f"{NAME}\n7\n***\n\n\u2014 x AAAA\n",
    f"{NAME}\n7\nAAAA\nsurprise\n\n\u2014 x AAAA\n",
    f"{NAME}\n7\nAAAA\n\n- x AAAA\n",
])
def test_malformed_notes_are_refused(signer, broken):
    with pytest.raises(NoteError):
        verify_checkpoint(broken, signer.public_key)


def test_key_names_and_origin():
    with pytest.raises(ValueError):
        NoteSigner(ed25519.Ed25519PrivateKey.generate(), "has space")
    with pytest.raises(ValueError):
        NoteSigner(ed25519.Ed25519PrivateKey.generate(), "a+b")
    assert origin_for("https://gateway.example.nl") == "gateway.example.nl/audit"
    assert origin_for("http://127.0.0.1:8000/base/") == "127.0.0.1:8000/base/audit"
