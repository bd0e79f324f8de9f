"""``/api/v1/pep/*``: the public keys, and each organisation's sealed key share (audited)."""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from pseudonymise.pep.elgamal import encode_base64

from ..api.refusals import Refusals
from ..audit.actors import Actor
from ..oauth.protect import current_caller, require_scope
from ..problems import GatewayError
from ..ratelimit import rate_limited
from ..services import services
from .subjects import PolymorphicSubjects

bp = Blueprint("pep", __name__)

KEY_SHARE_ACTION = "pep.key_share"


def subjects() -> PolymorphicSubjects:
    return services().polymorphic


class Unavailable(GatewayError):
    """No polymorphic keys were issued on this gateway yet."""

    status, code = 404, "polymorphic_unavailable"


class KeyShareNotIssued(GatewayError):
    """The caller's client has no key share (not enabled, or the issuer has not run since)."""

    status, code = 404, "key_share_not_issued"


REFUSALS = Refusals.by_actor(lambda: services().audit)
"""Every refused key-share fetch is audited through the audit service's ``deny``."""


@bp.get("/api/v1/pep/public-key")
def public_key():
    """Public: partners encrypt BSNs under ``master_public_key``; ``link_public_key`` is the
    statement their link proofs are checked against."""
    state = subjects().transcryptor.state()
    if state is None:
        raise Unavailable(
            "Polymorphic pseudonymisation has not been set up on this gateway (no keys issued yet)."
        )
    return jsonify(
        {
            "version": state.version,
            "group": "ristretto255",
            "master_public_key": encode_base64(state.master_public_key),
            "link_public_key": encode_base64(state.link_public_key),
        }
    )


@bp.get("/api/v1/pep/key-share")
@require_scope(on_refused=REFUSALS.on_refused(KEY_SHARE_ACTION))
@rate_limited
def key_share():
    """The caller's key share, sealed to its own registered key: the gateway stores and
    serves it but cannot open it. Every fetch is an audit event."""
    caller = current_caller()
    sealed = subjects().transcryptor.sealed_share(caller.org_oin, caller.client_id)
    if sealed is None:
        raise REFUSALS.refused(
            KEY_SHARE_ACTION,
            caller,
            KeyShareNotIssued(
                "No key share was issued for this client: the organisation must be enabled for "
                "polymorphic mode and the key issuer must have run since (gateway keys pep-issue)."
            ),
        )
    services().audit.record(
        Actor.from_caller(caller).event(KEY_SHARE_ACTION, fsc_transaction_id=g.fsc_transaction_id)
    )
    state = subjects().transcryptor.state()
    return jsonify(
        {
            "organisation": caller.org_oin,
            "client_id": caller.client_id,
            "kid": sealed.get("kid"),
            "version": state.version if state else None,
            "key_share": sealed["key_share"],
        }
    )
