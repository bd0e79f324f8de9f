"""``/ui/consents``: search a child's consents by BSN (POST only), view and withdraw one."""

from __future__ import annotations

from flask import redirect, render_template, request

from ..auth import current_user, require_page
from ..consentdesk import (
    PURPOSE_NAMES,
    ROLE_NAMES,
    STATUS_NAMES,
    consent_desk,
    local_time,
    parse_bsn,
)
from . import bp

NAMES = {
    "purpose_names": PURPOSE_NAMES,
    "status_names": STATUS_NAMES,
    "grantor_names": ROLE_NAMES,
    "local_time": local_time,
}


@bp.get("/ui/consents")
@require_page("consents")
def consents():
    return render_template("web/consents.html", results=None, **NAMES)


@bp.post("/ui/consents")
@require_page("consents")
def search_consents():
    bsn = parse_bsn(request.form.get("bsn", ""))
    results = consent_desk().search(current_user(), bsn)
    return render_template("web/consents.html", results=results, **NAMES)


@bp.get("/ui/consents/<consent_id>")
@require_page("consents")
def consent(consent_id: str):
    view = consent_desk().get(current_user(), consent_id)
    withdrawn = request.args.get("melding") == "ingetrokken"
    return render_template("web/consent.html", view=view, withdrawn=withdrawn, **NAMES)


@bp.post("/ui/consents/<consent_id>/withdraw")
@require_page("consents")
def withdraw_consent(consent_id: str):
    consent_desk().withdraw(
        current_user(), consent_id, request.form.get("role", ""), request.form.get("reason", "")
    )
    return redirect(f"/ui/consents/{consent_id}?melding=ingetrokken", code=303)
