"""``/ui/retractions``: the operator's privacy officers see retracted exchanges, whether the
recipient confirmed it erased its copy, and the breach register (issue 19).

A message about the wrong child is a data breach the operator may have to report to the
Autoriteit Persoonsgegevens within 72 hours (AVG article 33). Each retraction is one entry:
what was sent (message type, reason), from whom to whom, when, how many children (one per
exchange), whether the recipient had received it, and the reporting deadline counted from
the retraction. The page shows no BSN and no pseudonym: the exchange id is the reference,
and the audit log page (linked) holds the trail.
"""

from __future__ import annotations

from datetime import datetime

from flask import render_template

from ...services import services
from ..auth import require_page
from ..consentdesk import local_time
from . import bp

RECEIVED = {
    "accepted": "Nee: de gateway heeft het gewist voordat de ontvanger het ophaalde.",
    "delivered": "Ja: opgehaald, nog niet bevestigd; de gateway heeft het daarna gewist.",
    "acknowledged": "Ja: opgehaald en de ontvangst bevestigd.",
    "dead_lettered": "Nee: de aflevering was al opgegeven.",
}
"""Did the recipient have it? By the exchange's status at the moment of retraction."""


def remaining(deadline: datetime, now: datetime) -> str:
    """How much of the 72 hours is left, in words."""
    hours = int((deadline - now).total_seconds() // 3600)
    if deadline <= now:
        return "de termijn van 72 uur is verstreken"
    if hours < 1:
        return "nog minder dan een uur"
    return "nog 1 uur" if hours == 1 else f"nog {hours} uur"


@bp.get("/ui/retractions")
@require_page("retractions")
def retractions():
    entries = services().retractions.register()
    return render_template(
        "web/retractions.html",
        open_entries=[e for e in entries if e["confirmed_at"] is None],
        closed_entries=[e for e in entries if e["confirmed_at"] is not None],
        received=RECEIVED,
        local_time=local_time,
        remaining=remaining,
        now=services().clock(),
    )
