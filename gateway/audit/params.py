"""The filters of an audit search, read from query parameters (or a web form) strictly.

Anything malformed is a 400 ``invalid_parameter`` naming the parameter (API.md section 1):
times are RFC 3339 with an offset (``from`` inclusive, ``to`` exclusive), ``org`` an OIN,
``action`` an action name, ``messageType`` (or its deprecated alias ``message_type``, see
:mod:`gateway.docs.query`) and ``decision`` from the vocabulary, ``cursor`` one this API
issued, ``limit`` 1..500.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from schemas.vocabulary import AUDIT_DECISIONS, MESSAGE_TYPES, NOTICE_TYPES

from ..paging import Cursors
from .errors import invalid_parameter

FORMATS = ("csv", "jsonl")
AUDITED_TYPES = MESSAGE_TYPES + NOTICE_TYPES
"""Message types an audit event can name: the partners' and the gateway's notices."""
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_OIN = re.compile(r"[0-9]{20}")
_ACTION = re.compile(r"[a-z][a-z_]{0,30}(\.[a-z][a-z_]{0,30}){1,3}")


@dataclass(frozen=True)
class EventFilter:
    """What to select; None means "any". ``subject_refs`` are audit pseudonyms."""

    start: datetime | None = None
    end: datetime | None = None
    org: str | None = None
    action: str | None = None
    message_type: str | None = None
    decision: str | None = None
    exchange_id: str | None = None
    """Only the events of this exchange (its send, deliveries, acknowledgement)."""
    subject_refs: tuple[str, ...] | None = None
    clear_to: str | None = None
    """Only events whose ``subject_clear_to`` index names this OIN."""
    pseudonym_to: str | None = None
    """Only events whose ``subject_pseudonym_to`` index names this OIN."""
    case_id: str | None = None
    """Only the events of this pact case (the unhashed ``case_id`` index; the operator's
    pages alone ask for it: a partner is never given a value that groups a case)."""


def parse_time(name: str, raw: str | None) -> datetime | None:
    if raw is None:
        return None
    if not _RFC3339.fullmatch(raw):
        raise invalid_parameter(
            name, "Must be an RFC 3339 time with offset, e.g. 2026-01-31T12:00:00Z."
        )
    text = raw.upper()
    head, dot, rest = text.partition(".")
    if dot:  # at most microseconds: datetime keeps no more
        digits = re.match(r"[0-9]+", rest).group(0)
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits) :]}"
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        raise invalid_parameter(name, "Not a valid date and time.") from None


def _choice(name: str, raw: str | None, allowed: tuple[str, ...]) -> str | None:
    if raw is not None and raw not in allowed:
        raise invalid_parameter(name, "Must be one of: " + ", ".join(allowed) + ".")
    return raw


def _either(args: Mapping[str, str], name: str, alias: str) -> tuple[str, str | None]:
    """The key given and its value: ``name``, else its deprecated alias (the API view has
    refused the two at once with different values); a refusal names what was sent."""
    return (name, args[name]) if name in args else (alias, args.get(alias))


def parse_filter(args: Mapping[str, str]) -> EventFilter:
    """``from``, ``to``, ``org``, ``action``, ``messageType`` (``message_type``),
    ``decision``."""
    start = parse_time("from", args.get("from"))
    end = parse_time("to", args.get("to"))
    org = args.get("org")
    if org is not None and not _OIN.fullmatch(org):
        raise invalid_parameter("org", "Must be an OIN of 20 digits.")
    action = args.get("action")
    if action is not None and not _ACTION.fullmatch(action):
        raise invalid_parameter("action", "Must be an action name such as exchange.send.")
    return EventFilter(
        start=start,
        end=end,
        org=org,
        action=action,
        message_type=_choice(*_either(args, "messageType", "message_type"), AUDITED_TYPES),
        decision=_choice("decision", args.get("decision"), AUDIT_DECISIONS),
    )


def parse_time_range(args: Mapping[str, str]) -> EventFilter:
    """Only ``from`` and ``to`` (the export)."""
    return EventFilter(
        start=parse_time("from", args.get("from")), end=parse_time("to", args.get("to"))
    )


def parse_format(raw: str | None) -> str:
    if raw is None:
        raise invalid_parameter("format", "Required: csv or jsonl.")
    if raw not in FORMATS:
        raise invalid_parameter("format", "Must be csv or jsonl.")
    return raw


def parse_size(name: str, raw: str | None, *, required: bool) -> int | None:
    """A tree size or sequence number: a positive decimal integer."""
    if raw is None:
        if required:
            raise invalid_parameter(name, "Required.")
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18 or int(raw) < 1:
        raise invalid_parameter(name, "Must be a positive integer.")
    return int(raw)


CURSORS = Cursors("a")
"""Cursors of audit searches."""
