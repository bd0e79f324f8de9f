"""One place per API area where a refused request is written to the audit log.

A request can be refused before its service runs: by the resource protector (a token without
the scope, an ``Fsc-Transaction-Id`` that is not a UUID) or by the body reader (content type,
size, strict JSON). API.md section 13 wants those refusals audited under the action that was
attempted, exactly like the service's own refusals. An area builds one :class:`Refusals` over
its service's ``deny`` and hands it to every layer::

    REFUSALS = Refusals(lambda action, caller, code, fsc: service().deny(...))

    @require_scope("consent:write", on_refused=REFUSALS.on_refused("consent.record"))
    def record():
        body = REFUSALS.body("consent.record", current_caller())

so the protector's hook, the body reader and any check of the view all end in that one
``deny``; the service audits what it refuses itself through the same method.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import g

from ..audit.actors import Actor
from ..problems import GatewayError
from .request import json_body

Deny = Callable[[str, object, str, str | None], None]
"""``deny(action, caller, code, fsc_transaction_id)``: write one denied ``action``."""


class Refusals:
    """The audit of one area's refused requests (the caller is the OAuth caller)."""

    def __init__(self, deny: Deny) -> None:
        self.deny = deny

    @classmethod
    def by_actor(cls, service: Callable[[], object]) -> Refusals:
        """For a service whose ``deny(action, actor, code, fsc)`` takes an audit
        :class:`Actor` (audit, re-identification): the caller becomes that actor."""

        def deny(action: str, caller, code: str, fsc: str | None) -> None:
            service().deny(action, Actor.from_caller(caller), code, fsc)

        return cls(deny)

    def on_refused(self, action: str) -> Callable[[object, str], None]:
        """The ``on_refused`` hook of :func:`gateway.oauth.protect.require_scope`."""

        def refused(caller: object, code: str) -> None:
            self.deny(action, caller, code, g.get("fsc_transaction_id"))

        return refused

    def refused(self, action: str, caller: object, error: GatewayError) -> GatewayError:
        """Record ``error`` as a denied ``action`` and return it, for the view to raise."""
        self.deny(action, caller, error.code, g.get("fsc_transaction_id"))
        return error

    @contextmanager
    def audited(self, action: str, caller: object) -> Iterator[None]:
        """Record a problem raised inside the block as a denied ``action``, then let it go
        on to the error handler."""
        try:
            yield
        except GatewayError as error:
            self.refused(action, caller, error)
            raise

    def body(self, action: str, caller: object, *, optional: bool = False) -> dict:
        """The strict JSON body (:func:`json_body`); its refusals are audited too."""
        with self.audited(action, caller):
            return json_body(optional=optional)
