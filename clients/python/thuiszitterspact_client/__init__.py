"""Partner client for the Thuiszitterspact gateway, with polymorphic pseudonymisation.

``GatewayClient`` talks to the API (tokens, exchanges, inbox, consents, signals); the
functions of :mod:`thuiszitterspact_client.pep` do the partner's side of polymorphic mode
locally, so the BSN never leaves the partner's system; :func:`verify_push` checks a push
delivery's ``Gateway-Signature``. See README.md.
"""

from thuiszitterspact_client.bsn import bsn_element, check_bsn, is_valid_bsn
from thuiszitterspact_client.client import GatewayClient
from thuiszitterspact_client.errors import (
    EncodingError,
    GatewayError,
    InvalidBsnError,
    KeyShareError,
    PepError,
    ThuiszitterspactError,
    WrongKeyError,
)
from thuiszitterspact_client.keys import load_private_jwk, open_key_share
from thuiszitterspact_client.pep import (
    KeyShare,
    PublicKeys,
    decrypt_pseudonym,
    polymorphic_subject,
    reply_subject,
)
from thuiszitterspact_client.push import PushSignatureError, verify_push

__version__ = "0.1.0"

__all__ = [
    "EncodingError",
    "GatewayClient",
    "GatewayError",
    "InvalidBsnError",
    "KeyShare",
    "KeyShareError",
    "PepError",
    "PublicKeys",
    "PushSignatureError",
    "ThuiszitterspactError",
    "WrongKeyError",
    "bsn_element",
    "check_bsn",
    "decrypt_pseudonym",
    "is_valid_bsn",
    "load_private_jwk",
    "open_key_share",
    "polymorphic_subject",
    "reply_subject",
    "verify_push",
]
