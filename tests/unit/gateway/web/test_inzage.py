"""The inzage summary over plain events: who received what, per local day, newest first."""

from __future__ import annotations

from gateway.web.inzage import Context, build, csv_text, page_of

A, B, SENDER = "00000001000000000001", "00000001000000000002", "00000001000000000003"
CTX = Context(
    names={A: "Organisatie A", SENDER: "School S"},
    types={A: "leerplicht", SENDER: "school"},
    retention={("absence_report", "school", "leerplicht"): 365},
    polymorphic=("Jeugdteam P",),
)


def event(seq: int, at: str, action: str = "exchange.send", decision: str = "allowed",
          recipient: str | None = A, **extra) -> dict:
    return {"seq": seq, "at": at, "action": action, "decision": decision, "sender": SENDER,
            "recipient": recipient, "actor": {"org": SENDER}, "message_type": "absence_report",
            **extra}


def test_sends_are_counted_per_recipient_and_follow_ups_are_not():
    report = build([
        event(1, "2026-01-05T10:00:00.000000Z", fields_forwarded=["start_date"]),
        event(2, "2026-01-05T10:05:00.000000Z", action="exchange.deliver"),
        event(3, "2026-02-01T07:00:00.000000Z", fields_dropped=["remarks"]),
    ], CTX)
    [row] = report.recipients
    assert (row.name, row.count) == ("Organisatie A", 2)
    assert row.first.strftime("%d-%m-%Y %H:%M") == "05-01-2026 11:00"
    assert row.last.strftime("%d-%m-%Y %H:%M") == "01-02-2026 08:00"
    assert (row.forwarded, row.dropped) == (["begindatum"], ["opmerkingen"])
    assert report.retention == ["Verzuimmelding: 365 dagen"]
    assert report.sources == ["School S"]


def test_a_refused_send_is_no_receipt_and_an_unknown_organisation_is_not_shown_by_oin():
    report = build([event(1, "2026-01-05T10:00:00Z", decision="denied", reason="route_not_allowed",
                          recipient=B)], CTX)
    assert report.recipients == []
    assert report.refusals[0]["recipient"] == "onbekende organisatie"
    assert B not in str(report.refusals)


def test_a_reidentification_counts_as_receiving_the_bsn():
    report = build([event(1, "2026-01-05T10:00:00Z", action="reidentification.read",
                          message_type=None)], CTX)
    assert report.recipients[0].what == ["het BSN, na een goedgekeurd verzoek tot herleiding"]


def test_the_timeline_groups_by_the_local_day_in_date_order():
    # 23:30 UTC on 2 March is half past midnight on 3 March in Amsterdam
    report = build([event(1, "2026-03-02T23:30:00Z"), event(2, "2026-03-03T01:00:00Z"),
                    event(3, "2026-03-02T12:00:00Z")], CTX)
    assert [(day.day, day.count) for day in report.timeline] == [
        ("02-03-2026", 1), ("03-03-2026", 2)]


def test_pages_hold_the_newest_events_first():
    report = build([event(n, "2026-01-05T10:00:00Z") for n in range(1, 8)], CTX)
    first = page_of(report, 1, size=3)
    assert [e["seq"] for e in first["items"]] == [7, 6, 5] and first["pages"] == 3
    assert [e["seq"] for e in page_of(report, 9, size=3)["items"]] == [1]


def test_the_csv_has_a_bom_and_semicolons():
    text = csv_text(build([event(1, "2026-07-01T10:00:00Z")], CTX), CTX)
    assert text.startswith("\ufeffNr.;Tijdstip (Nederlandse tijd);Tijdstip (UTC);")
    assert "\r\n1;01-07-2026 12:00:00;2026-07-01 10:00:00;" in text
