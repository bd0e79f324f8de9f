"""``GatewayClient``: a partner organisation's connection to the gateway's API.

It does the three things every partner would otherwise write by hand, and gets subtly wrong:

- OAuth 2.0 client credentials with ``private_key_jwt`` (ES256 assertions valid for two
  minutes, a fresh ``jti`` each time, since the gateway accepts every assertion once), a
  cached access token, and one retry with a new token when the gateway says
  ``invalid_token`` (expired or revoked early);
- fetching, opening and checking the organisation's polymorphic key share;
- building polymorphic subjects and replies, and decrypting what arrives.

Not thread-safe: give each thread its own client (they may share the key).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import requests

from thuiszitterspact_client.bsn import check_bsn
from thuiszitterspact_client.errors import GatewayError, KeyShareError, PepError, WrongKeyError
from thuiszitterspact_client.keys import check_private_jwk, open_key_share, signing_key
from thuiszitterspact_client.pep import (
    KeyShare,
    PublicKeys,
    check_oin,
    decrypt_pseudonym,
    polymorphic_subject,
    reply_subject,
)
from thuiszitterspact_client.responses import error_of, is_invalid_token, json_body
from thuiszitterspact_client.tokens import TokenSource


class GatewayClient:
    """One client of one organisation.

    ``private_jwk`` is the client's private EC P-256 JWK whose public half is registered at
    the gateway; it signs the client assertions and, unless ``decryption_jwk`` names another
    registered EC key (``"use": "enc"``), opens the key share. ``oin`` is learnt from
    ``/api/v1/me`` when not given. ``session`` lets you bring your own ``requests.Session``
    (proxies, CA bundle, a test transport).
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        private_jwk: Mapping[str, Any],
        oin: str | None = None,
        timeout: float = 10,
        *,
        scope: str | None = None,
        session: requests.Session | None = None,
        decryption_jwk: Mapping[str, Any] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.timeout = timeout
        self.scope = scope
        self._key = signing_key(private_jwk)
        # the issuer seals the share to a registered "use": "enc" key when there is one
        self._decryption_jwk = dict(decryption_jwk if decryption_jwk is not None else private_jwk)
        check_private_jwk(self._decryption_jwk)
        self._oin = check_oin(oin) if oin is not None else None
        self._session = session or requests.Session()
        self._tokens = TokenSource(
            self.base_url, client_id, self._key, self._session, timeout, scope
        )
        self._public: PublicKeys | None = None
        self._share: KeyShare | None = None

    def __repr__(self) -> str:
        return f"GatewayClient(base_url={self.base_url!r}, client_id={self.client_id!r})"

    def access_token(self) -> str:
        """The cached access token, or a new one when it is (nearly) expired."""
        return self._tokens.access_token()

    # -- HTTP --------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: bool = True,
    ) -> Any:
        """One API call; a 401 ``invalid_token`` is retried once with a fresh token."""
        response = self._send(method, path, body, params, headers, auth)
        if auth and is_invalid_token(response):
            self._tokens.forget()  # expired early or revoked: one new token, one more try
            response = self._send(method, path, body, params, headers, auth)
        if response.status_code >= 400:
            raise error_of(response)
        return json_body(response)

    def _send(
        self,
        method: str,
        path: str,
        body: Any,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        auth: bool,
    ) -> requests.Response:
        sent = {"Accept": "application/json", **(headers or {})}
        if auth:
            sent["Authorization"] = f"Bearer {self._tokens.access_token()}"
        return self._session.request(
            method,
            f"{self.base_url}{path}",
            json=body,
            params=params,
            headers=sent,
            timeout=self.timeout,
        )

    # -- who am I, and my keys ---------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        """``{client_id, org, org_type, scopes}``: checks the token and the set-up."""
        answer = self._request("GET", "/api/v1/me")
        if self._oin is None and type(answer.get("org")) is str:
            self._oin = check_oin(answer["org"])
        return answer

    @property
    def oin(self) -> str:
        """This client's organisation (asks ``/api/v1/me`` once when not given)."""
        if self._oin is None:
            self.me()
        if self._oin is None:
            raise GatewayError(200, "invalid_response", "/api/v1/me named no organisation.")
        return self._oin

    def public_keys(self, refresh: bool = False) -> PublicKeys:
        """The gateway's master and link public keys (no token needed); cached."""
        if self._public is None or refresh:
            self._public = PublicKeys.from_json(
                self._request("GET", "/api/v1/pep/public-key", auth=False)
            )
        return self._public

    def key_share(self, refresh: bool = False) -> KeyShare:
        """This organisation's key share, opened with the client key and checked; cached.

        Checked: the secrets fit their public halves, it is this organisation's, and it
        belongs to the public keys the gateway publishes now.
        """
        if self._share is not None and not refresh:
            return self._share
        answer = self._request("GET", "/api/v1/pep/key-share")
        share = open_key_share(answer.get("key_share"), self._decryption_jwk)
        if share.organisation != answer.get("organisation") or share.organisation != self.oin:
            raise KeyShareError("The key share is for another organisation than this client's.")
        share.check_public_keys(self.public_keys(refresh=True))
        self._share = share
        return share

    def polymorphic_subject(self, bsn: str) -> dict[str, str]:
        """``{"polymorphic": ...}`` for ``bsn``, from this organisation."""
        check_bsn(bsn)  # before any network call
        return polymorphic_subject(bsn, self.oin, self.public_keys(), self.key_share().link_secret)

    # -- exchanges ---------------------------------------------------------------------------

    def send(
        self,
        message_type: str,
        recipient: str,
        payload: Mapping[str, Any],
        subject: Mapping[str, Any],
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """``POST /api/v1/exchanges``; retrying with the same key and body is safe."""
        body = {
            "message_type": message_type,
            "recipient": recipient,
            "subject": dict(subject),
            "payload": dict(payload),
        }
        headers = {"Idempotency-Key": idempotency_key or uuid.uuid4().hex}
        return self._request("POST", "/api/v1/exchanges", body=body, headers=headers)

    def send_polymorphic(
        self,
        message_type: str,
        recipient: str,
        bsn: str,
        payload: Mapping[str, Any],
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Send about the child with this BSN without the BSN leaving this system.

        Each call encrypts afresh, so to retry after a network error with the same
        idempotency key, build the subject once (:meth:`polymorphic_subject`) and use
        :meth:`send`.
        """
        subject = self.polymorphic_subject(bsn)
        return self.send(message_type, recipient, payload, subject, idempotency_key)

    def reply(
        self,
        message_type: str,
        recipient: str,
        received_item: Mapping[str, Any],
        payload: Mapping[str, Any],
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Send about the child of a received polymorphic item, named by our pseudonym.

        ``received_item`` needs ``id`` and ``subject.encrypted_pseudonym`` as the inbox gave
        them (store both). ``payload`` is sent as given: add ``in_reply_to`` yourself where
        the message type has it.
        """
        exchange_id = received_item.get("id")
        encrypted = _encrypted_pseudonym(received_item)
        if type(exchange_id) is not str or encrypted is None:
            raise ValueError(
                "The received item needs its 'id' and 'subject.encrypted_pseudonym' "
                "(was it delivered in polymorphic mode?)."
            )
        share = self.key_share()
        pseudonym = decrypt_pseudonym(encrypted, share)
        reply = reply_subject(pseudonym, exchange_id, encrypted, share, self.oin)
        return self.send(message_type, recipient, payload, reply, idempotency_key)

    def inbox(self, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
        """One page of unacknowledged items: ``{"items": [...], "next_cursor": ...}``."""
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        return self._request("GET", "/api/v1/inbox", params=params)

    def ack(self, exchange_id: str) -> dict[str, Any]:
        """Acknowledge an item: the gateway then erases its payload."""
        return self._request("POST", f"/api/v1/inbox/{quote(exchange_id, safe='')}/ack")

    def receive(self, limit: int = 50) -> list[dict[str, Any]]:
        """Every unacknowledged item, each polymorphic one with a local ``"pseudonym"`` key.

        Items are copies: ``subject`` stays exactly as delivered, for :meth:`reply`. An item
        that cannot be decrypted gets ``"pseudonym": None`` and ``"pseudonym_error"`` (a code)
        rather than hiding the rest of the inbox.
        """
        items: list[dict[str, Any]] = []
        share: KeyShare | None = None
        refreshed = False
        cursor: str | None = None
        while True:
            page = self.inbox(limit=limit, cursor=cursor)
            for item in page.get("items", []):
                opened = dict(item)
                encrypted = _encrypted_pseudonym(item)
                if encrypted is not None:
                    share = share or self.key_share()
                    pseudonym, code = _open(encrypted, share)
                    if code == WrongKeyError.code and not refreshed:
                        refreshed = True  # perhaps the share was reissued: fetch it once more
                        share = self.key_share(refresh=True)
                        pseudonym, code = _open(encrypted, share)
                    opened["pseudonym"] = pseudonym
                    if code is not None:
                        opened["pseudonym_error"] = code
                items.append(opened)
            cursor = page.get("next_cursor")
            if not cursor:
                return items

    # -- consents and signals ----------------------------------------------------------------

    def record_consent(self, body: Mapping[str, Any], bsn: str) -> dict[str, Any]:
        """``POST /api/v1/consents`` with a polymorphic subject; ``body`` has no subject."""
        if "subject" in body:
            raise ValueError("Leave 'subject' out of the consent body; pass the BSN apart.")
        return self._request(
            "POST", "/api/v1/consents", body={**body, "subject": self.polymorphic_subject(bsn)}
        )

    def search_consents(
        self, bsn: str, limit: int | None = None, cursor: str | None = None
    ) -> dict[str, Any]:
        """``POST /api/v1/consents/search`` for the child with this BSN, polymorphically."""
        body: dict[str, Any] = {"subject": self.polymorphic_subject(bsn)}
        if limit is not None:
            body["limit"] = limit
        if cursor is not None:
            body["cursor"] = cursor
        return self._request("POST", "/api/v1/consents/search", body=body)

    def create_signal(self, bsn: str, category: str, contact: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /api/v1/signals``: "we are involved with this child", polymorphically."""
        body = {
            "subject": self.polymorphic_subject(bsn),
            "category": category,
            "contact": dict(contact),
        }
        return self._request("POST", "/api/v1/signals", body=body)


def _encrypted_pseudonym(item: Mapping[str, Any]) -> str | None:
    """``subject.encrypted_pseudonym`` of an inbox item delivered in polymorphic mode."""
    subject = item.get("subject")
    if isinstance(subject, Mapping) and type(subject.get("encrypted_pseudonym")) is str:
        return subject["encrypted_pseudonym"]
    return None


def _open(encrypted: str, share: KeyShare) -> tuple[str | None, str | None]:
    """(pseudonym, None), or (None, error code) for an item this share cannot open."""
    try:
        return decrypt_pseudonym(encrypted, share), None
    except PepError as error:
        return None, error.code
