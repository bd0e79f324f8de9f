"""The ``routes`` block of a bootstrap file: the exchange's route policies.

Checked with :func:`gateway.exchange.routes.route_problems` and written as ``RoutePolicyRow``
records; ``allowed: false`` removes a route.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from ..exchange.models import RoutePolicyRow
from ..exchange.routes import route_problems, route_row
from ..storage.models import utcnow
from .plan import BootstrapReport, sync_row

ROUTE_KEY = ("message_type", "sender_type", "recipient_type")


def check_routes(value: object, problem: Callable[[tuple, str], None]) -> list[dict]:
    """Every problem of the ``routes`` list reported through ``problem(path, message)``; the
    list itself (or ``[]`` when it is not a list) to apply."""
    if not isinstance(value, list):
        problem(("routes",), "must be a list")
        return []
    seen: set[tuple] = set()
    for index, route in enumerate(value):
        for suffix, message in route_problems(route):
            problem(("routes", index, *suffix), message)
        if isinstance(route, dict):
            key = tuple(route.get(k) for k in ROUTE_KEY)
            if key in seen:
                problem(("routes", index), "this route is listed twice")
            seen.add(key)
    return value


def apply_route(session, route: dict, report: BootstrapReport) -> None:
    """Create, update or remove the one route policy ``route`` names."""
    key = tuple(route[k] for k in ROUTE_KEY)
    label = "route {}:{}->{}".format(*key)
    row = session.scalars(
        select(RoutePolicyRow).where(
            RoutePolicyRow.message_type == key[0],
            RoutePolicyRow.sender_type == key[1],
            RoutePolicyRow.recipient_type == key[2],
        )
    ).first()
    if route.get("allowed", True) is False:
        if row is None:
            report.unchanged.append(label)
        else:
            session.delete(row)
            report.removed.append(label)
        return
    sync_row(
        session,
        row,
        route_row(route),
        label,
        report,
        lambda wanted: RoutePolicyRow(**wanted, updated_at=utcnow()),
    )
