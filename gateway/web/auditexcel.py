"""The audit log as Dutch Excel opens it: for reading, not for verifying.

Dutch Excel splits a CSV on ``;`` (the list separator of the Dutch locale), reads UTF-8 only
behind a byte order mark, and shows a time as it stands: so the rows below are ``;``-separated
with CRLF line ends behind a BOM, with Dutch headers, the local time (the gateway's time zone,
Europe/Amsterdam) beside UTC, and the Dutch name of every code beside the code. Every cell
that a spreadsheet would take for a formula starts with ``'`` (OWASP "CSV injection": a
NameID or a client id is chosen by others). The rows are written one event at a time from
the service's own streamed JSON Lines export, so the file is as long as the log and the
memory as small as one event. Hashes are recomputed from the JSON Lines export, never from
this file (see ``/ui/audit/export/uitleg``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from ..audit.export import inert
from . import vocabulary
from .inzage import field_name

BOM = "\ufeff"

COLUMNS: tuple[tuple[str, str], ...] = (
    ("Nr.", "Het volgnummer in de keten: elke gebeurtenis krijgt het volgende nummer."),
    ("Tijdstip (Nederlandse tijd)", "Wanneer het gebeurde, in Nederlandse tijd."),
    ("Tijdstip (UTC)", "Hetzelfde moment in UTC, zoals het in de auditlog staat."),
    ("Handeling", "Wat er gebeurde, in gewone woorden."),
    ("Handeling (code)", "Dezelfde handeling zoals de API en de andere exports haar noemen."),
    ("Organisatie", "De organisatie die de handeling deed."),
    ("Organisatie (OIN)", "Het organisatie-identificatienummer daarvan."),
    ("Gebruiker", "De persoon (bij de webinterface) of het programma dat handelde."),
    ("Koppeling", "De koppeling (het systeem) waarmee de organisatie handelde."),
    ("Uitwisseling", "Het nummer van de uitwisseling; alle gebeurtenissen van één bericht "
     "hebben hetzelfde nummer."),
    ("Berichttype", "Het soort bericht."),
    ("Berichttype (code)", "Hetzelfde berichttype als code."),
    ("Van", "De verzendende organisatie."),
    ("Van (OIN)", "Het OIN daarvan."),
    ("Naar", "De ontvangende organisatie."),
    ("Naar (OIN)", "Het OIN daarvan."),
    ("Doel", "Het doel waarvoor het bericht mocht worden verstuurd."),
    ("Doel (code)", "Hetzelfde doel als code."),
    ("Grondslag", "De wettelijke grondslag: een wettelijke plicht of toestemming."),
    ("Wetsartikel", "Het artikel waarop de wettelijke plicht berust."),
    ("Toestemming", "Het nummer van de toestemming, als het bericht daarop berustte."),
    ("Besluit", "Of de gateway het toestond of weigerde."),
    ("Besluit (code)", "Hetzelfde besluit als code."),
    ("Reden", "Waarom de gateway weigerde."),
    ("Reden (code)", "Dezelfde reden als code."),
    ("Doorgegeven gegevens", "Welke gegevens de ontvanger kreeg."),
    ("Weggelaten gegevens", "Welke gegevens de gateway niet doorgaf (dataminimalisatie)."),
    ("Gegeneraliseerde gegevens", "Welke gegevens grover werden gemaakt, bijvoorbeeld een "
     "geboortedatum die een geboortejaar werd."),
    ("Kind (auditpseudoniem)", "Alleen voor de beheerorganisatie: het pseudoniem waarmee de "
     "auditlog het kind aanduidt (nooit het BSN). Bij andere organisaties leeg."),
    ("Hash", "De vingerafdruk (SHA-256) van deze gebeurtenis."),
    ("Vorige hash", "De vingerafdruk van de gebeurtenis ervoor: zo vormen ze een keten."),
)
HEADERS = tuple(name for name, _ in COLUMNS)


def _line(values: Iterable[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerow(
        [inert(value) for value in values]
    )
    return buffer.getvalue()


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _name(names: dict[str, str], oin: str | None) -> str:
    if not oin:
        return ""
    return names.get(oin, "onbekende organisatie")


def _fields(event: dict, member: str) -> str:
    return ", ".join(field_name(name) for name in event.get(member) or ())


def row(event: dict, names: dict[str, str], zone: ZoneInfo) -> list[str]:
    """One event as the cells of :data:`HEADERS` (each a string)."""
    at = _moment(event["at"])
    actor = event.get("actor") or {}
    basis = event.get("legal_basis") or {}
    reason = event.get("reason") or ""
    return [
        str(event["seq"]),
        at.astimezone(zone).strftime("%d-%m-%Y %H:%M:%S"),
        at.strftime("%Y-%m-%d %H:%M:%S"),
        vocabulary.action(event["action"]),
        event["action"],
        _name(names, actor.get("org")),
        actor.get("org") or "",
        actor.get("user") or "",
        actor.get("client_id") or "",
        event.get("exchange_id") or "",
        vocabulary.name("message_type", event.get("message_type")),
        event.get("message_type") or "",
        _name(names, event.get("sender")),
        event.get("sender") or "",
        _name(names, event.get("recipient")),
        event.get("recipient") or "",
        vocabulary.name("purpose", event.get("purpose")),
        event.get("purpose") or "",
        vocabulary.name("legal_basis", basis.get("type")),
        basis.get("citation") or "",
        event.get("consent_id") or basis.get("consent_id") or "",
        vocabulary.name("decision", event.get("decision")),
        event.get("decision") or "",
        vocabulary.refusal(reason) if reason else "",
        reason,
        _fields(event, "fields_forwarded"),
        _fields(event, "fields_dropped"),
        _fields(event, "fields_generalised"),
        event.get("subject_ref") or "",
        event.get("hash") or "",
        event.get("prev_hash") or "",
    ]


def lines(json_lines: Iterable[str], names: dict[str, str], timezone: str) -> Iterator[str]:
    """The file, a line at a time: BOM and header, then one row per line of the service's
    JSON Lines export (each line one event as this reader receives it)."""
    zone = ZoneInfo(timezone)
    yield BOM + _line(HEADERS)
    for line in json_lines:
        yield _line(row(json.loads(line), names, zone))
