"""``/ui/reidentifications``: operator privacy officers approve or refuse requests, and see
what was decided before.

The service enforces the rules (operator only, never the own organisation's request, only
while pending); the page lists what this person may decide, posts the decision, and shows
the history of decided requests so a decision does not vanish from sight once taken.
"""

from __future__ import annotations

from datetime import datetime

from flask import redirect, render_template, request

from ...audit.actors import Actor
from ...clock import aware
from ...problems import GatewayError
from ...services import services
from .. import vocabulary
from ..auth import current_user, require_page
from ..consentdesk import local_time, organisation_names
from ..errors import WebError
from . import bp

HISTORY_LIMIT = 50
REFUSALS = {
    "not_found": "Dit verzoek bestaat niet.",
    "validation_failed": "Geef bij weigeren een reden op (ten hoogste 500 tekens).",
}
DONE = {"approve": "Het verzoek is goedgekeurd.", "refuse": "Het verzoek is geweigerd."}


def service():
    return services().reidentifications


def actor() -> Actor:
    user = current_user()
    return Actor.web_user(user.org_oin, user.org_type, user.name_id)


def page(message: str | None = None, problem: str | None = None, status: int = 200):
    body = render_template(
        "web/reidentifications.html",
        requests=service().pending(actor()),
        history=service().decided(actor(), HISTORY_LIMIT),
        org_names=organisation_names(),
        local_time=local_time,
        parse_time=_parse_time,
        when=lambda moment: local_time(aware(moment)) if moment else "",
        message=message,
        problem=problem,
    )
    return body, status


def _parse_time(text: str):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@bp.get("/ui/reidentifications")
@require_page("reidentifications")
def reidentifications():
    return page(DONE.get(request.args.get("melding", "")))


@bp.post("/ui/reidentifications/<request_id>/<verb>")
@require_page("reidentifications")
def decide(request_id: str, verb: str):
    if verb not in DONE:
        raise WebError(404, "Deze pagina bestaat niet.")
    reason = request.form.get("reason", "").strip()
    body = {"reason": reason} if reason or verb == "refuse" else {}
    decide_on = service().approve if verb == "approve" else service().refuse
    try:
        decide_on(actor(), request_id, body)
    except GatewayError as exc:
        status = 404 if exc.status == 404 else (422 if exc.status in (400, 422) else exc.status)
        text = REFUSALS.get(exc.code) or vocabulary.TEXTS.get(exc.code)
        return page(problem=text or "Dit kon niet worden vastgelegd.", status=status)
    return redirect(f"/ui/reidentifications?melding={verb}", code=303)
