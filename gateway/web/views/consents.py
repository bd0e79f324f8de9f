"""``/ui/consents``: search a child's consents by BSN (POST only), view and withdraw one.

The BSN travels only in POST bodies: the result list opens a consent with a small form that
carries the BSN, and the consent's page posts it back for "terug naar de zoekresultaten", so
the search survives the round trip without the BSN ever reaching a URL, a browser history or
an access log. Opened by its plain address (a bookmark, after withdrawing) the consent's page
links back to an empty search.
"""

from __future__ import annotations

from flask import redirect, render_template, request

from ..auth import current_user, require_page
from ..consentdesk import (
    consent_desk,
    grouped,
    local_time,
    organisation_names,
    parse_bsn,
)
from . import bp


def names() -> dict:
    return {"local_time": local_time, "org_names": organisation_names()}


@bp.get("/ui/consents")
@require_page("consents")
def consents():
    return render_template("web/consents.html", groups=None, bsn_digits="", **names())


@bp.post("/ui/consents")
@require_page("consents")
def search_consents():
    bsn = parse_bsn(request.form.get("bsn", ""))
    results = consent_desk().search(current_user(), bsn)
    return render_template(
        "web/consents.html",
        groups=grouped(results),
        found=len(results),
        bsn_digits=bsn.digits,
        **names(),
    )


@bp.get("/ui/consents/<consent_id>")
@require_page("consents")
def consent(consent_id: str):
    view = consent_desk().get(current_user(), consent_id)
    withdrawn = request.args.get("melding") == "ingetrokken"
    return render_template(
        "web/consent.html", view=view, withdrawn=withdrawn, bsn_digits="", **names()
    )


@bp.post("/ui/consents/<consent_id>")
@require_page("consents")
def consent_from_search(consent_id: str):
    """The consent opened from a search result; the BSN only to post the search back."""
    bsn = parse_bsn(request.form.get("bsn", ""))
    view = consent_desk().get(current_user(), consent_id)
    return render_template(
        "web/consent.html", view=view, withdrawn=False, bsn_digits=bsn.digits, **names()
    )


@bp.post("/ui/consents/<consent_id>/withdraw")
@require_page("consents")
def withdraw_consent(consent_id: str):
    consent_desk().withdraw(
        current_user(), consent_id, request.form.get("role", ""), request.form.get("reason", "")
    )
    return redirect(f"/ui/consents/{consent_id}?melding=ingetrokken", code=303)
