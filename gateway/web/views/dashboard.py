"""``/ui/``: exchanges and refusals per day, the pact indicators, and two tiles that say
whether something waits for the officer (pending re-identifications) and whether the audit
log is intact. Every name on the page is Dutch: routes and refusal reasons are translated
through :mod:`gateway.web.vocabulary` before they reach the table or the chart, and the
template names the indicators' categories and durations with the ``dutch`` filter.

The pact's processes (design section 8) get four charts: consultations per month, exemption
requests by medical advice, escalations opened and closed per month with the open count, and
time to placement by band. They show the published cells only ("<5" hatched, withheld as a
dash), suppressed together with the ``pact`` member of the indicators answer."""

from __future__ import annotations

from flask import render_template

from ...services import services
from .. import vocabulary
from ..access import may_open
from ..auditdesk import integrity
from ..auth import current_user, require_page
from ..charts import colour, count_bars, stacked_bars
from ..context import pending_reidentifications
from . import bp


def indicators(user) -> dict | None:
    """The pact indicators in the user's scope."""
    return services().monitoring.indicators(None, None if user.is_operator else user.org_id)


MONTHS = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
PLACEMENT_BANDS = {
    "under_6_weeks": "Korter dan 6 weken",
    "6_weeks_to_3_months": "6 weken tot 3 maanden",
    "over_3_months": "3 maanden of langer",
}
"""The time-to-placement bands (the two pacts' norms: 42 and 91 days)."""


def month_label(day) -> str:
    return f"{MONTHS[day.month - 1]} {day.year}"


def pact_charts(user) -> dict | None:
    """The four pact charts and the tables beside them, in the user's scope; None when the
    monitoring service has no pact source (a unit test's service)."""
    published = services().monitoring.pact_charts(None, None if user.is_operator else user.org_id)
    if published is None:
        return None
    pact = published.pact
    months = [month_label(day) for day in published.months]
    advice = pact["exemption_requests"]["by_medical_advice"]
    advice_labels = [vocabulary.name("medical_advice", key) for key in advice]
    bands = pact["time_to_placement"]["by_band"]
    band_labels = [PLACEMENT_BANDS[key] for key in bands]
    escalations = {"Geopend": published.opened, "Gesloten": published.closed}
    still_open = ("Open aan het eind van de maand", published.open)
    return {
        "pact": pact,
        "months": months,
        "consultations": {"Gehouden": published.consultations},
        "advice": list(zip(advice_labels, advice.values(), strict=True)),
        "escalations": {**escalations, still_open[0]: still_open[1]},
        "bands": list(zip(band_labels, bands.values(), strict=True)),
        "consultations_chart": count_bars(
            "pact-consultations",
            "Casusoverleggen per maand",
            "Staafdiagram: gehouden casusoverleggen per maand van het schooljaar.",
            months,
            {"Gehouden": published.consultations},
        ),
        "advice_chart": count_bars(
            "pact-advice",
            "Verzoeken om vrijstelling naar medisch advies",
            "Staafdiagram: beslist verzoek om vrijstelling (art. 5 onder a) per advies van "
            "de jeugdarts.",
            advice_labels,
            {"Verzoeken": list(advice.values())},
        ),
        "escalations_chart": count_bars(
            "pact-escalations",
            "Escalaties per maand",
            "Staafdiagram: geopende en gesloten escalaties per maand; de lijn is het aantal "
            "open escalaties aan het eind van de maand.",
            months,
            escalations,
            still_open,
        ),
        "bands_chart": count_bars(
            "pact-placement",
            "Tijd tot plaatsing",
            "Staafdiagram: geplaatste kinderen naar het aantal dagen thuis tot de plaatsing.",
            band_labels,
            {"Geplaatste kinderen": list(bands.values())},
        ),
    }


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
        pact=pact_charts(user),
        pending=pending_reidentifications(user),
        integrity=integrity(user) if may_open(user, "audit") else None,
    )
