"""``/ui/audit`` (the log newest first with page numbers, a child's trail, an exchange, a
whole process of the pact, the exports with their explanation, the integrity banner and its
signed checkpoint) and ``/ui/audit/subject`` (the inzage answer: summary, the processes around
the child, timeline, events, and its PDF and CSV downloads).

The subject report takes the BSN only from a POST body, so it never appears in a URL, a
browser history or an access log; its pages and downloads are POSTs for the same reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import Response, render_template, request, stream_with_context

from ...audit.params import EventFilter
from ...services import services
from .. import auditexcel, inzage, vocabulary
from ..auditdesk import (
    FilterForm,
    action_choices,
    browse,
    browse_case,
    case_files,
    case_links,
    export,
    export_case,
    integrity,
    inzage_context,
    open_case,
    open_reference,
    open_trail,
    read_filter,
    seal_case,
    seal_reference,
    seal_trail,
    subject_events,
)
from ..auth import current_user, require_page
from ..consentdesk import local_time, parse_bsn
from ..errors import WebError
from ..labels import DECISION_NAMES, action_name
from ..vocabulary import text as problem_text
from . import bp

EXCHANGE_ID = re.compile(r"[A-Za-z0-9-]{1,36}")
EXPORTS = {
    "excel": ("auditlog-excel.csv", "text/csv; charset=utf-8"),
    "csv": ("auditlog.csv", "text/csv; charset=utf-8"),
    "jsonl": ("auditlog.jsonl", "application/x-ndjson"),
}
"""The downloads: Excel (for reading), and the API's own CSV and JSON Lines."""


def timezone() -> str:
    return services().settings.timezone


def organisation_names() -> dict[str, str]:
    registry = services().registry
    return {org.oin: org.name for org in registry.organisations()}


def event_context() -> dict:
    return {
        "org_names": organisation_names(),
        "action_name": action_name,
        "reason_name": inzage.reason_name,
        "decision_names": DECISION_NAMES,
        "local_time": local_time,
        "parse_time": _parse_time,
    }


def _parse_time(text: str):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class Selection:
    """What the page (or its export) shows: the filter form, and the child's trail or the
    exchange it is narrowed to; ``wanted`` is None while anything is wrong."""

    form: FilterForm
    subject_ref: str | None = None
    exchange: str = ""
    case_id: str | None = None
    """A whole process (a pact case): the operator's readers only."""
    wanted: EventFilter | None = None

    @property
    def errors(self) -> dict[str, str]:
        return self.form.errors


def select_events(user, args, names: dict[str, str]) -> Selection:
    """The filter form plus ``kind`` (a sealed trail reference, operator only), ``proces``
    (a sealed case reference, operator only) and ``exchange`` (an exchange's id), each
    mistake in Dutch under its own name."""
    form = read_filter(args, timezone(), names)
    chosen = Selection(form, exchange=(args.get("exchange") or "").strip())
    if args.get("kind"):
        if not user.is_operator:
            form.errors["kind"] = "Alleen de beheerorganisatie kan het spoor van een kind openen."
        else:
            chosen.subject_ref = open_trail(user, args["kind"])
            if chosen.subject_ref is None:
                form.errors["kind"] = (
                    "De link naar het spoor van dit kind is verlopen (hij werkt 15 minuten) of "
                    "hoort bij een andere gebruiker. Open het spoor opnieuw vanuit de auditlog."
                )
    if args.get("proces"):
        if not user.is_operator:
            form.errors["proces"] = "Alleen de beheerorganisatie kan een heel proces openen."
        else:
            chosen.case_id = open_case(user, args["proces"])
            if chosen.case_id is None:
                form.errors["proces"] = (
                    "De link naar dit proces is verlopen (hij werkt 15 minuten) of hoort bij "
                    "een andere gebruiker. Open het proces opnieuw vanuit de auditlog."
                )
    if chosen.exchange and not EXCHANGE_ID.fullmatch(chosen.exchange):
        form.errors["exchange"] = "Dit is geen nummer van een uitwisseling."
    if form.wanted is not None and not form.errors:
        chosen.wanted = replace(
            form.wanted,
            subject_refs=(chosen.subject_ref,) if chosen.subject_ref else None,
            exchange_id=chosen.exchange or None,
        )
    return chosen


def _link(path: str, params: dict) -> str:
    present = {name: value for name, value in params.items() if value}
    return path + ("?" + urlencode(present) if present else "")


def _number(raw: str | None) -> int:
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


def event_links(user, items: list[dict], chosen: Selection) -> dict[int, dict[str, str]]:
    """Per event: the link to its child's trail (the operator's readers, who alone receive
    ``subject_ref``; sealed, so no URL carries a child), to its exchange, and to its whole
    process (the operator's readers, from the unhashed case index; sealed likewise)."""
    sealed: dict[str, str] = {}
    links: dict[int, dict[str, str]] = {}
    cases = case_links(user, items, chosen.case_id)
    for event in items:
        found = {}
        ref = event.get("subject_ref")
        if user.is_operator and ref and ref != chosen.subject_ref:
            if ref not in sealed:
                sealed[ref] = seal_trail(user, ref)
            found["trail"] = _link("/ui/audit", {"kind": sealed[ref]})
        if event.get("exchange_id") and event["exchange_id"] != chosen.exchange:
            found["exchange"] = _link("/ui/audit", {"exchange": event["exchange_id"]})
        if event["seq"] in cases:
            found["case"] = _link("/ui/audit", {"proces": cases[event["seq"]]})
        links[event["seq"]] = found
    return links


@bp.get("/ui/audit")
@require_page("audit")
def audit():
    user = current_user()
    names = organisation_names()
    chosen = select_events(user, request.args, names)
    oldest = request.args.get("order") == "oldest"
    state = {
        **chosen.form.filters,
        "kind": seal_trail(user, chosen.subject_ref) if chosen.subject_ref else "",
        "proces": seal_case(user, chosen.case_id) if chosen.case_id else "",
        "exchange": chosen.exchange if "exchange" not in chosen.errors else "",
    }
    order = {"order": "oldest" if oldest else ""}
    page = None
    number = _number(request.args.get("page"))
    if chosen.wanted is not None and chosen.case_id:
        page = browse_case(user, chosen.wanted, chosen.case_id, number, not oldest)
    elif chosen.wanted is not None:
        page = browse(user, chosen.wanted, number, not oldest)

    def page_url(number: int) -> str:
        return _link("/ui/audit", {**state, **order, "page": number if number > 1 else ""})

    body = render_template(
        "web/audit.html",
        form=chosen.form,
        errors=chosen.errors,
        chosen=chosen,
        state=state,
        oldest=oldest,
        page=page,
        links=event_links(user, page["items"], chosen) if page else {},
        page_url=page_url,
        newest_url=_link("/ui/audit", state),
        oldest_url=_link("/ui/audit", {**state, "order": "oldest"}),
        all_url="/ui/audit",
        export_urls={fmt: _link("/ui/audit/export", {**state, "format": fmt}) for fmt in EXPORTS},
        integrity=integrity(user),
        action_choices=action_choices(),
        message_types=vocabulary.MESSAGE_TYPES,
        **{**event_context(), "org_names": names},
    )
    return body, 400 if chosen.errors else 200


@bp.get("/ui/audit/export")
@require_page("audit")
def audit_export():
    """The log as a file, with the page's filters: ``excel`` (Dutch Excel opens it; for
    reading), ``csv`` and ``jsonl`` (the API's own formats; JSON Lines to verify)."""
    fmt = request.args.get("format") or "excel"
    if fmt not in EXPORTS:
        raise WebError(400, "Kies een export voor Excel, als CSV of als JSON Lines.")
    user = current_user()
    names = organisation_names()
    chosen = select_events(user, request.args, names)
    if chosen.wanted is None:
        raise WebError(400, "De export kan niet: " + " ".join(chosen.errors.values()))

    def read(wanted_format: str):
        if chosen.case_id:
            return export_case(user, chosen.wanted, chosen.case_id, wanted_format)
        return export(user, chosen.wanted, wanted_format)

    if fmt == "excel":
        lines = auditexcel.lines(read("jsonl"), names, timezone())
    else:
        lines = read(fmt)
    filename, mimetype = EXPORTS[fmt]
    return Response(
        stream_with_context(lines),
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/ui/audit/export/uitleg")
@require_page("audit")
def audit_export_help():
    """How to read each export and how to verify the log, in plain Dutch."""
    return render_template("web/audit_export_help.html", columns=auditexcel.COLUMNS)


@bp.get("/ui/audit/checkpoint")
@require_page("audit")
def audit_checkpoint():
    """The newest signed checkpoint the integrity check saw, as the API's ``checkpoint``
    object: with the public key of ``/api/v1/audit/key`` anyone checks its signature."""
    checkpoint = integrity(current_user()).checkpoint
    if checkpoint is None:
        raise WebError(404, "Er is nog geen ondertekend controlepunt van de auditlog.")
    return Response(
        json.dumps(checkpoint, indent=2) + "\n",
        mimetype="application/json",
        headers={
            "Content-Disposition": (
                f'attachment; filename="controlepunt-{checkpoint["tree_size"]}.json"'
            ),
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
    return inzage.build(events, ctx, complete, case_files(user, events)), ctx


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
        process_links={
            process.case_id: _link("/ui/audit", {"proces": seal_case(user, process.case_id)})
            for process in report.processes
        }
        if user.is_operator
        else {},
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
        "reason_text": inzage.reason_text,
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
