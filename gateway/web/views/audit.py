"""``/ui/audit`` (search, CSV export, integrity banner) and ``/ui/audit/subject`` (report).

The subject report takes the BSN only from a POST body, so it never appears in a URL, a
browser history or an access log.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import Response, render_template, request, stream_with_context

from ...services import services
from ..auditdesk import event_filter, export, integrity, search, subject_report
from ..auth import current_user, require_page
from ..consentdesk import local_time, parse_bsn
from ..labels import DECISION_NAMES, action_name
from . import bp

FILTER_FIELDS = ("from", "to", "org", "action", "message_type", "decision")


def timezone() -> str:
    return services().settings.timezone


def organisation_names() -> dict[str, str]:
    registry = services().registry
    return {org.oin: org.name for org in registry.organisations()}


def event_context() -> dict:
    return {
        "org_names": organisation_names(),
        "action_name": action_name,
        "decision_names": DECISION_NAMES,
        "local_time": local_time,
        "parse_time": _parse_time,
    }


def _parse_time(text: str):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@bp.get("/ui/audit")
@require_page("audit")
def audit():
    user = current_user()
    form = {name: request.args.get(name, "") for name in FILTER_FIELDS}
    wanted = event_filter(form, timezone())
    page = search(user, wanted, request.args.get("cursor"))
    filters = {name: value for name, value in form.items() if value}
    next_url = None
    if page["next_cursor"]:
        next_url = "/ui/audit?" + urlencode({**filters, "cursor": page["next_cursor"]})
    return render_template(
        "web/audit.html",
        form=form,
        page=page,
        next_url=next_url,
        first_url="/ui/audit?" + urlencode(filters) if request.args.get("cursor") else None,
        export_url="/ui/audit/export?" + urlencode({**filters, "format": "csv"}),
        integrity=integrity(user),
        **event_context(),
    )


@bp.get("/ui/audit/export")
@require_page("audit")
def audit_export():
    form = {name: request.args.get(name, "") for name in FILTER_FIELDS}
    lines = export(current_user(), event_filter(form, timezone()))
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="auditlog.csv"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/ui/audit/subject")
@require_page("subject")
def subject_form():
    return render_template("web/subject.html", report=None, **event_context())


@bp.post("/ui/audit/subject")
@require_page("subject")
def subject():
    bsn = parse_bsn(request.form.get("bsn", ""))
    report = subject_report(current_user(), bsn.digits, request.form.get("cursor") or None)
    return render_template(
        "web/subject.html",
        report=report,
        bsn_digits=bsn.digits,
        generated_at=local_time(datetime.now(UTC)),
        **event_context(),
    )
