"""``/ui/``: exchanges and refusals per day, and the pact indicators."""

from __future__ import annotations

from flask import render_template

from ...services import services
from ..auth import current_user, require_page
from ..charts import colour, stacked_bars
from . import bp

CATEGORY_NAMES = {
    "absolute_absence": "Absoluut verzuim",
    "long_relative_absence": "Langdurig relatief verzuim",
    "exemption_5a": "Vrijstelling art. 5 onder a",
    "exemption_other": "Andere vrijstelling",
}
DURATION_NAMES = {
    "under_4_weeks": "Korter dan 4 weken",
    "4_weeks_to_3_months": "4 weken tot 3 maanden",
    "over_3_months": "Langer dan 3 maanden",
}


def indicators(user) -> dict | None:
    """The pact indicators in the user's scope."""
    return services().monitoring.indicators(None, None if user.is_operator else user.org_id)


@bp.get("/ui/")
@require_page("dashboard")
def dashboard():
    user = current_user()
    series = services().exchange_stats.daily(None if user.is_operator else user.org_oin)
    return render_template(
        "web/dashboard.html",
        series=series,
        exchanges_chart=stacked_bars(
            "exchanges", "Uitwisselingen per dag per route", series.days, series.by_route
        ),
        refusals_chart=stacked_bars(
            "refusals", "Weigeringen per dag per reden", series.days, series.by_reason
        ),
        colour=colour,
        indicators=indicators(user),
        category_names=CATEGORY_NAMES,
        duration_names=DURATION_NAMES,
    )
