"""``/ui/audit`` (search, CSV export, integrity banner) and ``/ui/audit/subject`` (the
inzage answer: summary, timeline, events, and its PDF and CSV downloads).

The subject report takes the BSN only from a POST body, so it never appears in a URL, a
browser history or an access log; its pages and downloads are POSTs for the same reason.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import Response, render_template, request, stream_with_context

from ...services import services
from .. import inzage
from ..auditdesk import (
    event_filter,
    export,
    integrity,
    inzage_context,
    open_reference,
    seal_reference,
    search,
    subject_events,
)
from ..auth import current_user, require_page
from ..consentdesk import local_time, parse_bsn
from ..errors import WebError
from ..labels import DECISION_NAMES, action_name
from ..vocabulary import text as problem_text
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
    ctx = inzage_context(timezone())
    return render_template("web/subject.html", report=None, **inzage_names(ctx), **event_context())


def _child(user) -> str:
    """The report's child: the BSN typed in the form, or the reference a report page carries."""
    if request.form.get("ref"):
        return open_reference(user, request.form["ref"])
    return parse_bsn(request.form.get("bsn", "")).digits


def _inzage(user, bsn_digits: str):
    events, complete = subject_events(user, bsn_digits)
    ctx = inzage_context(timezone())
    return inzage.build(events, ctx, complete), ctx


def _page_number(raw: str | None) -> int:
    try:
        return int(raw or 1)
    except ValueError:
        return 1


@bp.post("/ui/audit/subject")
@require_page("subject")
def subject():
    user = current_user()
    bsn_digits = _child(user)
    report, ctx = _inzage(user, bsn_digits)
    return render_template(
        "web/subject.html",
        report=report,
        page=inzage.page_of(report, _page_number(request.form.get("page"))),
        reference=seal_reference(user, bsn_digits),
        generated_at=local_time(datetime.now(UTC)),
        **inzage_names(ctx),
        **event_context(),
    )


def inzage_names(ctx) -> dict:
    return {
        "ctx": ctx,
        "message_type_name": inzage.message_type_name,
        "purpose_name": inzage.purpose_name,
        "problem_text": problem_text,
    }


def pdf_of(html: str) -> bytes:
    """The print view as PDF; WeasyPrint (and pango under it) loads only when one is asked."""
    from weasyprint import HTML

    return HTML(string=html).write_pdf()


@bp.post("/ui/audit/subject/download")
@require_page("subject")
def subject_download():
    """The same report as a file; a POST (with the CSRF token) so the BSN stays out of URLs."""
    wanted = request.form.get("format")
    if wanted not in ("pdf", "csv"):
        raise WebError(400, "Kies PDF of CSV als formaat van de download.")
    user = current_user()
    report, ctx = _inzage(user, _child(user))
    stamp = datetime.now(UTC)
    name = f"inzageverzoek-{ctx.local(stamp):%Y%m%d-%H%M}"
    if wanted == "csv":
        body, mimetype = inzage.csv_text(report, ctx).encode("utf-8"), "text/csv; charset=utf-8"
    else:
        html = render_template(
            "web/inzage_print.html",
            report=report,
            generated_at=local_time(stamp),
            **inzage_names(ctx),
            **event_context(),
        )
        body, mimetype = pdf_of(html), "application/pdf"
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{name}.{wanted}"',
            "Cache-Control": "no-store",
        },
    )
