"""Recipient minimisation: what a recipient on a route receives of a validated payload.

Data minimisation (AVG art. 5(1)(c)) is applied per route, from a profile that lists the
fields a recipient needs; everything else is dropped and some fields are generalised (a date
of birth becomes a birth year). ``minimise`` also reports what it did, by field name, for
the audit event (API.md section 8: ``fields_forwarded``, ``fields_dropped``,
``fields_generalised``). It is a pure function over JSON values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
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
    "fields received" column can be copied as it is.
    """

    keep: tuple[str, ...] | str
    generalise: Mapping[str, str] = field(default_factory=dict)

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

    @property
    def keeps_all(self) -> bool:
        """True for the ``"*"`` profile (all fields as sent, apart from generalisations)."""
        return self.keep == KEEP_ALL

    @classmethod
    def from_mapping(
        cls, data: object, *, known_fields: Iterable[str] | None = None
    ) -> RecipientProfile:
        """Build a profile from configuration: ``{keep: [...] | "*", generalise: {...}}``.

        With ``known_fields`` (the message type's payload fields), names that the message
        type does not have are refused, so a typo cannot silently drop a field.
        """
        if not isinstance(data, Mapping):
            raise ProfileError("a profile must be a mapping with 'keep' and optional 'generalise'")
        extra = sorted(str(key) for key in data if key not in ("keep", "generalise"))
        if extra:
            raise ProfileError(f"unknown profile key(s): {', '.join(extra)}")
        if "keep" not in data:
            raise ProfileError("a profile needs 'keep': a list of field names or '*'")
        keep = _parse_keep(data["keep"])
        generalise = _parse_generalise(data.get("generalise", {}))
        profile = cls(keep=keep, generalise=generalise)
        if known_fields is not None:
            _check_known(profile, set(known_fields))
        return profile


@dataclass(frozen=True)
class Minimised:
    """The recipient's payload and, by name, what minimisation did to the original."""

    payload: dict[str, Any]
    fields_forwarded: tuple[str, ...]
    fields_dropped: tuple[str, ...]
    fields_generalised: tuple[str, ...]


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
    return Minimised(out, tuple(forwarded), tuple(dropped), tuple(generalised))


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
