"""Recipient minimisation: what a recipient on a route receives of a validated payload.

Data minimisation (AVG art. 5(1)(c)) is applied per route, from a profile that lists the
fields a recipient needs; everything else is dropped and some fields are generalised (a date
of birth becomes a birth year). ``minimise`` also reports what it did, by field name, for
the audit event (API.md section 8: ``fields_forwarded``, ``fields_dropped``,
``fields_generalised``). It is a pure function over JSON values.

Some routes' recipients also get fields the gateway itself writes after minimisation (the pact's
cases: the recipient's own ``case_ref``, the ``participants``; docs/pact-workflows.md section
2.4). A profile names them in ``gateway_fields``; :func:`add_gateway_fields` adds exactly those
and lists them in ``fields_forwarded``, so the audit event says that the recipient got them. A
gateway field is never a field of the message type: a sender cannot write one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from types import MappingProxyType
from typing import Any

from schemas.errors import ProfileError

KEEP_ALL = "*"


def _birth_year(value: Any) -> int:
    """``YYYY-MM-DD`` (or a ``date``) -> the year as an integer."""
    if isinstance(value, date):
        return value.year
    return date.fromisoformat(value).year


GENERALISATIONS: dict[str, Callable[[Any], Any]] = {"birth_year": _birth_year}
"""Known generalisations by name; the name is also the field name the recipient sees."""


@dataclass(frozen=True)
class RecipientProfile:
    """Fields a route's recipient receives.

    ``keep`` names fields passed on unchanged, or is ``"*"`` for every field as sent.
    ``generalise`` maps a field to a generalisation, whose name is the new field name
    (``{"date_of_birth": "birth_year"}``); a generalised field is passed on only in its
    generalised form. ``keep`` may also list the generalised names, so the route table's
    "fields received" column can be copied as it is. ``gateway_fields`` names the fields the
    gateway adds after minimisation (:func:`add_gateway_fields`).
    """

    keep: tuple[str, ...] | str
    generalise: Mapping[str, str] = field(default_factory=dict)
    gateway_fields: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.keep, list):
            object.__setattr__(self, "keep", tuple(self.keep))
        if self.keep != KEEP_ALL and not (
            isinstance(self.keep, tuple) and all(isinstance(name, str) for name in self.keep)
        ):
            raise ProfileError("keep must be '*' or a tuple of field names")
        object.__setattr__(self, "generalise", MappingProxyType(dict(self.generalise)))
        for source, name in self.generalise.items():
            if name not in GENERALISATIONS:
                raise ProfileError(f"unknown generalisation {name!r} for field {source!r}")
            if self.keep != KEEP_ALL and source in self.keep:
                raise ProfileError(f"field {source!r} is both kept and generalised")
        object.__setattr__(self, "gateway_fields", tuple(self.gateway_fields))
        for name in self.gateway_fields:
            if not isinstance(name, str) or not name:
                raise ProfileError("'gateway_fields' entries must be field names")
            if name in self.generalise or name in self.generalise.values():
                raise ProfileError(f"gateway field {name!r} is also generalised")
            if self.keep != KEEP_ALL and name in self.keep:
                raise ProfileError(f"gateway field {name!r} is also kept from the payload")
        if len(set(self.gateway_fields)) != len(self.gateway_fields):
            raise ProfileError("'gateway_fields' names a field twice")

    @property
    def keeps_all(self) -> bool:
        """True for the ``"*"`` profile (all fields as sent, apart from generalisations)."""
        return self.keep == KEEP_ALL

    @classmethod
    def from_mapping(
        cls, data: object, *, known_fields: Iterable[str] | None = None
    ) -> RecipientProfile:
        """Build a profile from configuration: ``{keep: [...] | "*", generalise: {...},
        gateway_fields: [...]}`` (the last two optional).

        With ``known_fields`` (the message type's payload fields), names that the message
        type does not have are refused, so a typo cannot silently drop a field, and so are
        gateway fields that the message type has (a sender could then write them).
        """
        if not isinstance(data, Mapping):
            raise ProfileError("a profile must be a mapping with 'keep' and optional 'generalise'")
        extra = sorted(str(key) for key in data if key not in PROFILE_KEYS)
        if extra:
            raise ProfileError(f"unknown profile key(s): {', '.join(extra)}")
        if "keep" not in data:
            raise ProfileError("a profile needs 'keep': a list of field names or '*'")
        keep = _parse_keep(data["keep"])
        generalise = _parse_generalise(data.get("generalise", {}))
        gateway_fields = _parse_gateway_fields(data.get("gateway_fields", []))
        profile = cls(keep=keep, generalise=generalise, gateway_fields=gateway_fields)
        if known_fields is not None:
            _check_known(profile, set(known_fields))
        return profile


PROFILE_KEYS = ("keep", "generalise", "gateway_fields")


@dataclass(frozen=True)
class Minimised:
    """The recipient's payload and, by name, what minimisation did to the original.

    ``gateway_fields`` are the names the profile lets the gateway add afterwards
    (:func:`add_gateway_fields`); they are not in the payload until it does."""

    payload: dict[str, Any]
    fields_forwarded: tuple[str, ...]
    fields_dropped: tuple[str, ...]
    fields_generalised: tuple[str, ...]
    gateway_fields: tuple[str, ...] = ()


def minimise(payload: Mapping[str, Any], profile: RecipientProfile) -> Minimised:
    """Apply ``profile`` to a validated payload; fields absent from it are not listed.

    Names are reported as the recipient receives them (``birth_year``), generalisations as
    ``source->name`` (``date_of_birth->birth_year``), all in payload order.
    """
    out: dict[str, Any] = {}
    forwarded: list[str] = []
    dropped: list[str] = []
    generalised: list[str] = []
    for name, value in payload.items():
        if name in profile.generalise:
            new_name = profile.generalise[name]
            out[new_name] = GENERALISATIONS[new_name](value)
            forwarded.append(new_name)
            generalised.append(f"{name}->{new_name}")
        elif profile.keeps_all or name in profile.keep:
            out[name] = _copy_json(value)
            forwarded.append(name)
        else:
            dropped.append(name)
    return Minimised(
        out, tuple(forwarded), tuple(dropped), tuple(generalised), profile.gateway_fields
    )


def add_gateway_fields(minimised: Minimised, fields: Mapping[str, Any]) -> Minimised:
    """The minimised payload with the gateway's own ``fields`` added and listed as forwarded.

    Only the profile's ``gateway_fields`` may be added (a ``ValueError`` otherwise: a case
    service asking for another name is a programming error, never a partner's), each once.
    The values are copied, so the caller's objects are not shared with the stored payload.
    """
    unknown = [name for name in fields if name not in minimised.gateway_fields]
    if unknown:
        raise ValueError(f"not a gateway field of this route: {', '.join(map(str, unknown))}")
    again = [name for name in fields if name in minimised.payload]
    if again:
        raise ValueError(f"already in the payload: {', '.join(again)}")
    payload = {**minimised.payload, **{name: _copy_json(value) for name, value in fields.items()}}
    return replace(
        minimised,
        payload=payload,
        fields_forwarded=(*minimised.fields_forwarded, *fields),
    )


def _copy_json(value: Any) -> Any:
    """A copy of a JSON value (dicts, lists, scalars): what ``deepcopy`` does, without its
    memo bookkeeping, which costs more than the rest of minimisation together."""
    if isinstance(value, dict):
        return {key: _copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_json(item) for item in value]
    return value


def _parse_keep(value: object) -> tuple[str, ...] | str:
    if value == KEEP_ALL:
        return KEEP_ALL
    if not isinstance(value, (list, tuple)) or not value:
        raise ProfileError("'keep' must be '*' or a non-empty list of field names")
    names: list[str] = []
    for index, name in enumerate(value):
        if not isinstance(name, str) or not name:
            raise ProfileError(f"'keep' entry {index} must be a field name")
        if name in names:
            raise ProfileError(f"'keep' names {name!r} twice")
        names.append(name)
    return tuple(names)


def _parse_generalise(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ProfileError("'generalise' must be a mapping of field name to generalisation")
    parsed: dict[str, str] = {}
    for source, name in value.items():
        if not isinstance(source, str) or not isinstance(name, str):
            raise ProfileError("'generalise' entries must map a field name to a name")
        parsed[source] = name
    return parsed


def _parse_gateway_fields(value: object) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)):
        raise ProfileError("'gateway_fields' must be a list of field names")
    for index, name in enumerate(value):
        if not isinstance(name, str) or not name:
            raise ProfileError(f"'gateway_fields' entry {index} must be a field name")
    return tuple(value)


def _check_known(profile: RecipientProfile, known: set[str]) -> None:
    targets = set(profile.generalise.values())
    names = [] if profile.keeps_all else list(profile.keep)
    for name in names:
        if name not in known and name not in targets:
            raise ProfileError(f"'keep' names {name!r}, which this message type does not have")
    for source in profile.generalise:
        if source not in known:
            raise ProfileError(
                f"'generalise' names {source!r}, which this message type does not have"
            )
    for name in profile.gateway_fields:
        if name in known:
            raise ProfileError(
                f"'gateway_fields' names {name!r}, a field of the message type a sender writes"
            )
