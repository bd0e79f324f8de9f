"""Where a push may connect in production: the resolved address, checked, then pinned.

Registration refuses IP literals that are not public (:func:`registry.rules.delivery_url_problem`),
but a host name can resolve to anything, and resolve differently a moment later (DNS
rebinding). So at delivery time the worker resolves the host itself, refuses the push when
any address it gets is not public (private, loopback, link-local such as the cloud metadata
service, shared, reserved), and hands the checked address to the pusher, which connects to
exactly that address, sending the host name as TLS SNI and ``Host`` and verifying the server
certificate against the host name (:class:`gateway.delivery.push.Pusher`). Nothing resolves
the name a second time between the check and the connection.

Development does not pin: local test recipients on 127.0.0.1 stay reachable.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..registry.rules import ip_literal, is_public_address

Resolver = Callable[..., list]


class AddressRefused(Exception):
    """The delivery_url's host cannot be used; ``reason`` is stable, safe to store and log
    (it names no address, no body and no partner data)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Destination:
    """A checked address for one delivery_url: connect to ``address``, speak to ``host``."""

    host: str
    address: str
    port: int


def pin(url: str, resolver: Resolver | None = None) -> Destination:
    """Resolve ``url``'s host once and return the public address to connect to.

    Raises :class:`AddressRefused` when the name does not resolve or any of its addresses is
    not public (an attacker who controls the zone must not get one private answer through by
    mixing it with public ones).
    """
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise AddressRefused("delivery_url has no host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    literal = ip_literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            answers = (resolver or socket.getaddrinfo)(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise AddressRefused("delivery_url host does not resolve") from None
        addresses = []
        for answer in answers:
            found = ip_literal(str(answer[4][0]).split("%", 1)[0])
            if found is not None and found not in addresses:
                addresses.append(found)
        if not addresses:
            raise AddressRefused("delivery_url host does not resolve")
    if not all(is_public_address(address) for address in addresses):
        raise AddressRefused("delivery_url host resolves to a non-public address")
    return Destination(host, str(addresses[0]), port)
