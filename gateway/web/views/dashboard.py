"""``/ui/``: exchanges and refusals per day, the pact indicators, and two tiles that say
whether something waits for the officer (pending re-identifications) and whether the audit
log is intact. Every name on the page is Dutch: routes and refusal reasons are translated
through :mod:`gateway.web.vocabulary` before they reach the table or the chart, and the
template names the indicators' categories and durations with the ``dutch`` filter."""

from __future__ import annotations

from flask import render_template

from ...services import services
from .. import vocabulary
from ..access import may_open
from ..auditdesk import integrity
from ..auth import current_user, require_page
from ..charts import colour, stacked_bars
from ..context import pending_reidentifications
from . import bp


def indicators(user) -> dict | None:
    """The pact indicators in the user's scope."""
    return services().monitoring.indicators(None, None if user.is_operator else user.org_id)


def in_dutch(series: dict[str, list[int]], name) -> dict[str, list[int]]:
    """``series`` with each key replaced by ``name(key)``; keys that share a Dutch name (two
    unknown routes, say) are added up rather than one hiding the other."""
    translated: dict[str, list[int]] = {}
    for key, values in series.items():
        label = name(key)
        if label in translated:
            translated[label] = [a + b for a, b in zip(translated[label], values, strict=True)]
        else:
            translated[label] = list(values)
    return dict(sorted(translated.items()))


@bp.get("/ui/")
@require_page("dashboard")
def dashboard():
    user = current_user()
    series = services().exchange_stats.daily(None if user.is_operator else user.org_oin)
    by_route = in_dutch(series.by_route, vocabulary.route)
    by_reason = in_dutch(series.by_reason, vocabulary.refusal)
    return render_template(
        "web/dashboard.html",
        series=series,
        by_route=by_route,
        by_reason=by_reason,
        exchanges_chart=stacked_bars(
            "exchanges", "Uitwisselingen per dag per route", series.days, by_route
        ),
        refusals_chart=stacked_bars(
            "refusals", "Geweigerde uitwisselingen per dag per reden", series.days, by_reason
        ),
        colour=colour,
        indicators=indicators(user),
        pending=pending_reidentifications(user),
        integrity=integrity(user) if may_open(user, "audit") else None,
    )
