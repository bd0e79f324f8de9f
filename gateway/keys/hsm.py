"""Signing keys on a PKCS#11 token (an HSM, or SoftHSM in tests) instead of in files.

The keys that prove something to partners move here: the access token, push signature and
consent receipt keys (ES256) and the audit checkpoint key (Ed25519). Each is generated on the
token as non-extractable and sensitive, so its private half never exists outside the HSM;
the gateway reads only the public half (for ``/oauth/jwks`` and ``/api/v1/audit/key``) and
asks the token for every signature.

The private keys are presented as ``cryptography`` private keys
(:class:`TokenEcKey`, :class:`TokenEd25519Key`) whose ``sign`` goes to the token, so that the
code that signs (joserfc for JWS, the checkpoint note signer) does not change, and a file key
and a token key are interchangeable to it.

The master secret stays a file: every pseudonym, sealed payload and keyed reference derives
from it by HKDF per domain (:class:`pseudonymise.keys.KeyRing`), thousands of times per bulk
request; that needs PKCS#11 3.0 key derivation that SoftHSM 2.6 and many HSMs lack, and a
round trip per pseudonym. Keeping it apart is a later step.

Labels: an ES256 key is labelled ``<prefix><kid>`` (the kid as in files,
``<purpose>-<time>-<random>``); a retired one ``<prefix><kid> retired <time>``; the audit key
``<prefix>audit-ed25519`` (``GATEWAY_PKCS11_AUDIT_LABEL``).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import pkcs11
from asn1crypto.core import OctetString
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from joserfc.jwk import ECKey
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.util.ec import encode_named_curve_parameters

from ..config import ConfigurationError, Pkcs11Settings
from . import (
    AUDIT,
    AUDIT_KEY_FILE,
    KID_PREFIXES,
    PURPOSE_NAMES,
    TOKEN,
    SigningKey,
    SigningKeyFolder,
    by_state,
)

ES256, ED25519 = "ES256", "Ed25519"
P256_OID = "secp256r1"
ED25519_OID = "1.3.101.112"
RETIRED = " retired "
REFRESH_SECONDS = 1.0
"""How often a folder lists the token again before signing or publishing: a key added by
``gateway keys rotate`` in another process signs everywhere within a second."""
UNKNOWN_KID_SECONDS = 0.1
"""How often an unknown ``kid`` may make a folder list the token again
(:meth:`TokenKeyFolder.key`)."""

_LOCK = threading.RLock()
"""One PKCS#11 library per process, initialised without OS locking: its calls are serialised."""
_INITIALISED_IN: dict[str, int] = {}
"""Per module path, the process that called ``C_Initialize``: a forked gunicorn worker must
initialise the library again (PKCS#11 state does not survive ``fork``)."""
_SESSIONS: dict[tuple[str, str], tuple[int, object]] = {}
"""Per (module, token label) the process's one logged-in session: PKCS#11 logs in per
application, so a second login of the same process would be refused."""
_RETRIED = (pkcs11.SessionHandleInvalid, pkcs11.SessionClosed, pkcs11.DeviceRemoved)


class KeyStaysOnToken(TypeError):
    """Someone asked for the private half of a key that only the token holds."""


def _point(raw: bytes) -> bytes:
    """CKA_EC_POINT: DER OCTET STRING around the point (PKCS#11), or the bare point."""
    try:
        inner = OctetString.load(raw).native
    except ValueError:
        return raw
    return inner if isinstance(inner, bytes) and len(inner) in (32, 65) else raw


class Token:
    """One token, opened lazily in each process, through one read-write session that every
    :class:`Token` of the process for that token shares.

    Signing, listing and generating all pass through :meth:`call`, which reopens the session
    once when the token says it is gone (a restarted HSM); a forked worker initialises the
    library again and opens its own.
    """

    def __init__(self, settings: Pkcs11Settings) -> None:
        self.settings = settings
        self._session = None
        self._private: dict[str, object] = {}
        """Private key objects by label, found once per session."""

    def label(self, name: str) -> str:
        return self.settings.label_prefix + name

    def _open(self):
        so = str(self.settings.module)
        pid = os.getpid()
        shared = _SESSIONS.get((so, self.settings.token_label))
        if shared is not None and shared[0] == pid:
            return shared[1]
        try:
            lib = pkcs11.lib(so)
        except pkcs11.PKCS11Error as exc:
            raise ConfigurationError(
                f"GATEWAY_PKCS11_MODULE ({so}) cannot be loaded: {exc}"
            ) from None
        if _INITIALISED_IN.setdefault(so, pid) != pid:
            lib.reinitialize()
            _INITIALISED_IN[so] = pid
            _SESSIONS.clear()
        try:
            token = lib.get_token(token_label=self.settings.token_label)
        except (pkcs11.NoSuchToken, pkcs11.MultipleTokensReturned):
            raise ConfigurationError(
                f"GATEWAY_PKCS11_TOKEN: no single token labelled {self.settings.token_label!r}"
            ) from None
        try:
            session = token.open(user_pin=self.settings.pin, rw=True)
        except pkcs11.UserAlreadyLoggedIn:
            session = token.open(rw=True)  # login is per process: another session did it
        except (pkcs11.PinIncorrect, pkcs11.PinInvalid, pkcs11.PinLenRange, pkcs11.PinLocked):
            raise ConfigurationError(
                "GATEWAY_PKCS11_PIN is not accepted by the token (wrong, invalid or locked)"
            ) from None
        _SESSIONS[(so, self.settings.token_label)] = (pid, session)
        return session

    def _drop_session(self) -> None:
        _SESSIONS.pop((str(self.settings.module), self.settings.token_label), None)

    def call(self, operation: Callable):
        """``operation(session)`` under the process's PKCS#11 lock."""
        with _LOCK:
            for attempt in (0, 1):
                session = self._open()
                if session is not self._session:
                    self._session, self._private = session, {}
                try:
                    return operation(session)
                except _RETRIED:
                    self._drop_session()
                    if attempt:
                        raise
        raise AssertionError("unreachable")

    # signing ----------------------------------------------------------------------------
    def sign(self, label: str, data: bytes, mechanism: Mechanism) -> bytes:
        def operation(session):
            key = self._private.get(label)
            if key is None:
                key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=label)
                self._private[label] = key
            return key.sign(data, mechanism=mechanism)

        try:
            return self.call(operation)
        except pkcs11.NoSuchKey:
            raise ConfigurationError(f"the PKCS#11 token has no private key {label!r}") from None

    # reading ----------------------------------------------------------------------------
    def public_keys(self, key_type: KeyType) -> dict[str, tuple[bytes, bytes]]:
        """``label -> (CKA_ID, point)`` of the public keys of ``key_type`` whose private key
        is on the token too, limited to this gateway's label prefix."""

        def operation(session):
            private = {
                obj.label
                for obj in session.get_objects(
                    {Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.KEY_TYPE: key_type}
                )
            }
            found = {}
            for obj in session.get_objects(
                {Attribute.CLASS: ObjectClass.PUBLIC_KEY, Attribute.KEY_TYPE: key_type}
            ):
                label = obj.label
                if label.startswith(self.settings.label_prefix) and label in private:
                    found[label] = (obj[Attribute.ID], _point(obj[Attribute.EC_POINT]))
            return found

        return self.call(operation)

    # writing ----------------------------------------------------------------------------
    def generate(self, label: str, kind: str, key_id: bytes) -> bytes:
        """A new key pair under ``label``, private half sensitive and never extractable;
        returns the public point."""

        def operation(session):
            if kind == ES256:
                key_type, curve = KeyType.EC, P256_OID
                mechanism = Mechanism.EC_KEY_PAIR_GEN
            else:
                key_type, curve = KeyType.EC_EDWARDS, ED25519_OID
                mechanism = Mechanism.EC_EDWARDS_KEY_PAIR_GEN
            parameters = session.create_domain_parameters(
                key_type, {Attribute.EC_PARAMS: encode_named_curve_parameters(curve)}, local=True
            )
            public, _ = parameters.generate_keypair(
                mechanism=mechanism,
                store=True,
                label=label,
                id=key_id,
                public_template={Attribute.VERIFY: True, Attribute.TOKEN: True},
                private_template={
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: True,
                    Attribute.SENSITIVE: True,
                    Attribute.EXTRACTABLE: False,
                    Attribute.SIGN: True,
                    Attribute.DERIVE: False,
                },
            )
            return _point(public[Attribute.EC_POINT])

        return self.call(operation)

    def import_pair(self, label: str, private_key, key_id: bytes) -> None:
        """Copy a file key pair onto the token under ``label``, the private half sensitive and
        not extractable from then on (the token records that it was not generated there:
        CKA_NEVER_EXTRACTABLE and CKA_ALWAYS_SENSITIVE stay false)."""
        public = private_key.public_key()
        if isinstance(private_key, ec.EllipticCurvePrivateKey):
            if not isinstance(private_key.curve, ec.SECP256R1):
                raise ConfigurationError(f"{label}: only P-256 keys are imported")
            key_type, curve = KeyType.EC, P256_OID
            value = private_key.private_numbers().private_value.to_bytes(32, "big")
            point = public.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        else:
            key_type, curve = KeyType.EC_EDWARDS, ED25519_OID
            value = private_key.private_bytes_raw()
            point = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
        common = {
            Attribute.LABEL: label,
            Attribute.ID: key_id,
            Attribute.TOKEN: True,
            Attribute.KEY_TYPE: key_type,
            Attribute.EC_PARAMS: encode_named_curve_parameters(curve),
        }

        def operation(session):
            created = session.create_object(
                {
                    **common,
                    Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                    Attribute.VALUE: value,
                    Attribute.PRIVATE: True,
                    Attribute.SENSITIVE: True,
                    Attribute.EXTRACTABLE: False,
                    Attribute.SIGN: True,
                    Attribute.DERIVE: False,
                }
            )
            try:
                session.create_object(
                    {
                        **common,
                        Attribute.CLASS: ObjectClass.PUBLIC_KEY,
                        Attribute.EC_POINT: OctetString(point).dump(),
                        Attribute.VERIFY: True,
                    }
                )
            except pkcs11.PKCS11Error:
                created.destroy()  # no private half without its public half
                raise

        self.call(operation)

    def relabel(self, label: str, new_label: str) -> None:
        """Give both halves of the key pair ``label`` a new label."""

        def operation(session):
            for object_class in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY):
                session.get_key(object_class=object_class, label=label)[Attribute.LABEL] = new_label
            self._private.pop(label, None)

        self.call(operation)


class TokenEcKey(ec.EllipticCurvePrivateKey):
    """A P-256 private key on the token: ``sign`` hashes here and signs there (CKM_ECDSA)."""

    def __init__(self, token: Token, label: str, public: ec.EllipticCurvePublicKey) -> None:
        self.token = token
        self.label = label
        self._public = public

    def sign(self, data: bytes, signature_algorithm: ec.EllipticCurveSignatureAlgorithm) -> bytes:
        """A DER ECDSA signature, as ``cryptography`` returns it."""
        algorithm = signature_algorithm.algorithm
        if isinstance(algorithm, Prehashed):
            digest = data
        elif isinstance(algorithm, hashes.SHA256):
            digest = hashlib.sha256(data).digest()
        else:
            raise ValueError("a token ES256 key signs SHA-256 digests only")
        raw = self.token.sign(self.label, digest, Mechanism.ECDSA)
        half = len(raw) // 2
        return encode_dss_signature(
            int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
        )

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._public

    @property
    def curve(self) -> ec.EllipticCurve:
        return ec.SECP256R1()

    @property
    def key_size(self) -> int:
        return 256

    def exchange(self, algorithm, peer_public_key):
        raise KeyStaysOnToken("a token signing key does no key agreement")

    def private_numbers(self):
        raise KeyStaysOnToken(f"{self.label} never leaves the PKCS#11 token")

    def private_bytes(self, encoding, format, encryption_algorithm):  # noqa: A002
        raise KeyStaysOnToken(f"{self.label} never leaves the PKCS#11 token")

    def __copy__(self) -> TokenEcKey:
        return self

    def __deepcopy__(self, memo) -> TokenEcKey:
        return self


class TokenEd25519Key(ed25519.Ed25519PrivateKey):
    """The audit checkpoint key on the token (CKM_EDDSA over the whole note text)."""

    def __init__(self, token: Token, label: str, public: ed25519.Ed25519PublicKey) -> None:
        self.token = token
        self.label = label
        self._public = public

    def sign(self, data: bytes) -> bytes:
        return self.token.sign(self.label, data, Mechanism.EDDSA)

    def public_key(self) -> ed25519.Ed25519PublicKey:
        return self._public

    def private_bytes(self, encoding, format, encryption_algorithm):  # noqa: A002
        raise KeyStaysOnToken(f"{self.label} never leaves the PKCS#11 token")

    def private_bytes_raw(self) -> bytes:
        raise KeyStaysOnToken(f"{self.label} never leaves the PKCS#11 token")

    def __copy__(self) -> TokenEd25519Key:
        return self

    def __deepcopy__(self, memo) -> TokenEd25519Key:
        return self


@dataclass(frozen=True)
class TokenSigningKey(SigningKey):
    """A :class:`SigningKey` whose private half is a :class:`TokenEcKey`."""

    @cached_property
    def jwk(self) -> ECKey:
        """A JWK that signs through the token; its JSON form is built from the public half
        only (joserfc would otherwise ask the private key for its numbers)."""
        public = ECKey.import_key(self.private_key.public_key()).as_dict()
        parameters = {"kid": self.kid, "alg": self.alg, "use": "sig"}
        return ECKey(self.private_key, public, parameters)

    def private_pem(self) -> bytes:
        raise KeyStaysOnToken(f"{self.kid} never leaves the PKCS#11 token")


def _new_kid(prefix: str) -> tuple[str, datetime]:
    now = datetime.now(UTC)
    return f"{prefix}{now:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}", now


def _created_at(key_id: bytes, kid: str) -> datetime:
    """CKA_ID holds the creation time (ISO 8601) of the keys this module made; otherwise the
    second in the kid."""
    try:
        return datetime.fromisoformat(key_id.decode())
    except (UnicodeDecodeError, ValueError):
        pass
    try:
        return datetime.strptime(kid.split("-")[1], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    except (IndexError, ValueError):
        return datetime.fromtimestamp(0, UTC)


class TokenKeyFolder:
    """The ES256 keys of one purpose on the token, with :class:`SigningKeyFolder`'s interface
    (``active``, ``retired``, ``current``, ``refresh``, ``key``, ``add``, ``retire``), so that
    the token, push and receipt signers and ``gateway keys rotate|list|retire`` work alike."""

    def __init__(self, token: Token, purpose: str) -> None:
        self.token = token
        self.purpose = purpose
        self.prefix = f"{purpose}-"
        self.active: list[SigningKey] = []
        self.retired: list[SigningKey] = []
        self._stamp: frozenset | None = None
        self._listed_at = float("-inf")

    def _kid_allowed(self, kid: str) -> bool:
        if kid.startswith(self.prefix):
            return True
        return self.purpose == TOKEN and not kid.startswith(KID_PREFIXES)

    def _listing(self) -> dict[str, tuple[bytes, bytes]]:
        prefix = self.token.settings.label_prefix
        found = self.token.public_keys(KeyType.EC)
        self._listed_at = time.monotonic()
        return {
            label: value
            for label, value in found.items()
            if label[len(prefix) :].startswith(self.prefix)
        }

    def stamp(self) -> frozenset:
        return frozenset(self._listing())

    def read(self, listing: dict | None = None) -> tuple[list[SigningKey], list[SigningKey]]:
        prefix = self.token.settings.label_prefix
        keys: list[SigningKey] = []
        for label, (key_id, point) in (self._listing() if listing is None else listing).items():
            kid, _, retired_at = label[len(prefix) :].partition(RETIRED)
            public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
            key = TokenSigningKey(
                kid=kid,
                alg=ES256,
                private_key=TokenEcKey(self.token, label, public),
                created_at=_created_at(key_id, kid),
                retired_at=datetime.fromisoformat(retired_at) if retired_at else None,
            )
            keys.append(key)
        return by_state(keys)

    def load(self) -> None:
        listing = self._listing()
        self.active, self.retired = self.read(listing)
        self._stamp = frozenset(listing)

    def refresh(self) -> bool:
        """List the token again when the last listing is older than
        :data:`REFRESH_SECONDS`; True when the keys changed."""
        if time.monotonic() - self._listed_at < REFRESH_SECONDS:
            return False
        listing = self._listing()
        if frozenset(listing) == self._stamp:
            return False
        active, retired = self.read(listing)
        if active:
            self.active, self.retired = active, retired
            self._stamp = frozenset(listing)
        return True

    def key(self, kid: str) -> SigningKey | None:
        """The active key ``kid``; an unknown kid lists the token again unless that was done
        in the last :data:`UNKNOWN_KID_SECONDS` (a key another process just added is found at
        once, a stream of made-up kids costs at most ten listings a second)."""
        self.refresh()
        found = next((key for key in self.active if key.kid == kid), None)
        if found is None and time.monotonic() - self._listed_at >= UNKNOWN_KID_SECONDS:
            self._listed_at = float("-inf")
            self.refresh()
            found = next((key for key in self.active if key.kid == kid), None)
        return found

    def add(self) -> SigningKey:
        """Generate a new ES256 key on the token; it becomes the current one."""
        kid, now = _new_kid(self.prefix)
        label = self.token.label(kid)
        point = self.token.generate(label, ES256, now.isoformat().encode())
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        key = TokenSigningKey(kid, ES256, TokenEcKey(self.token, label, public), now)
        self.active = [*self.active, key]
        self._listed_at = float("-inf")
        return key

    def retire(self, kid: str) -> SigningKey:
        """Stop publishing and trusting ``kid`` (its label gets `` retired <time>``); the
        key pair stays on the token until the operator deletes it there."""
        self._listed_at = float("-inf")
        self.refresh()
        if kid == self.current.kid:
            raise ConfigurationError(f"{kid} is the current {self.purpose} key; rotate first")
        if not any(key.kid == kid for key in self.active):
            raise ConfigurationError(f"no active {self.purpose} key {kid}")
        label = self.token.label(kid)
        self.token.relabel(label, f"{label}{RETIRED}{datetime.now(UTC).isoformat()}")
        self._listed_at = float("-inf")
        self.refresh()
        return next(key for key in self.retired if key.kid == kid)

    @property
    def current(self) -> SigningKey:
        return self.active[-1]


def audit_key(token: Token, *, generate: bool) -> tuple[TokenEd25519Key, bool]:
    """The audit checkpoint key on the token, generated when missing and ``generate`` says
    so; (key, whether this call generated it)."""
    label = token.label(token.settings.audit_label)
    found = token.public_keys(KeyType.EC_EDWARDS).get(label)
    created = False
    if found is None:
        if not generate:
            raise ConfigurationError(
                f"the PKCS#11 token has no audit checkpoint key {label!r}; production refuses "
                "to generate keys: run 'gateway keys hsm-init' first"
            )
        point = token.generate(label, ED25519, datetime.now(UTC).isoformat().encode())
        created = True
    else:
        point = found[1]
    public = ed25519.Ed25519PublicKey.from_public_bytes(point)
    return TokenEd25519Key(token, label, public), created


def file_keys(directory: Path, purposes) -> tuple[dict[str, SigningKeyFolder], object | None]:
    """The signing keys of ``purposes`` as files under ``directory`` hold them (what
    :func:`import_file_keys` copies): the ES256 folders, and the audit key if asked for."""
    folders = {}
    for purpose in purposes:
        if purpose == AUDIT:
            continue
        folders[purpose] = SigningKeyFolder(directory, purpose)
        folders[purpose].load()
        if not folders[purpose].active:
            raise ConfigurationError(f"GATEWAY_KEYS_DIR ({directory}) has no {purpose} key")
    audit = None
    if AUDIT in purposes:
        path = Path(directory) / AUDIT_KEY_FILE
        if not path.exists():
            raise ConfigurationError(f"GATEWAY_KEYS_DIR ({directory}) has no {AUDIT_KEY_FILE}")
        audit = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(audit, ed25519.Ed25519PrivateKey):
            raise ConfigurationError(f"GATEWAY_KEYS_DIR: {AUDIT_KEY_FILE} is not an Ed25519 key")
    return folders, audit


def import_file_keys(token: Token, directory: Path, purposes) -> list[tuple[str, str, bool]]:
    """Copy the active file keys of ``purposes`` under ``directory`` onto the token under
    their own kids, so that what they signed (access tokens, push signatures, consent
    receipts, audit checkpoints) keeps verifying after the switch. Keys already on the token
    are left alone. Returns (what, kid or label, whether imported) per key."""
    folders, file_audit_key = file_keys(directory, purposes)
    done = []
    audit_label = token.label(token.settings.audit_label)
    audit_found = None
    if file_audit_key is not None:  # a conflict stops the import before anything is copied
        audit_found = token.public_keys(KeyType.EC_EDWARDS).get(audit_label)
        mine = file_audit_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        if audit_found is not None and audit_found[1] != mine:
            raise ConfigurationError(
                f"the token already holds another audit checkpoint key under {audit_label!r}"
            )
    present = set(token.public_keys(KeyType.EC))
    for purpose, folder in folders.items():
        for key in folder.active:
            label = token.label(key.kid)
            if label not in present:
                token.import_pair(label, key.private_key, key.created_at.isoformat().encode())
            done.append((PURPOSE_NAMES[purpose], key.kid, label not in present))
    if file_audit_key is not None:
        if audit_found is None:
            token.import_pair(audit_label, file_audit_key, datetime.now(UTC).isoformat().encode())
        done.append(("audit checkpoint key", audit_label, audit_found is None))
    return done
