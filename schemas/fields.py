"""Strict marshmallow fields shared by every body and payload.

Partners' systems are strict with us, so we are strict with them: a JSON integer must be a
JSON integer (not ``true``, ``1.0`` or ``"1"``), digits are ASCII digits only (``re`` with
``\\d`` would take Arabic-Indic digits), strings carry no control characters or lone
surrogates (they break storage and canonical JSON), and no message repeats the input, since
the input may be a BSN. Each field also states its JSON Schema shape in ``metadata`` so that
the OpenAPI document describes exactly what is checked.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from marshmallow import ValidationError, fields, validate

from schemas.bsn import is_valid_bsn

BASE_MESSAGES: dict[str, str] = {
    "required": "This field is required.",
    "null": "This field must not be null.",
    "validator_failed": "This value is not allowed.",
}

OIN_PATTERN = r"^[0-9]{20}$"
BRIN_PATTERN = r"^[0-9]{2}[A-Z]{2}$"
PSEUDONYM_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"
BSN_PATTERN = r"^[0-9]{9}$"
# polymorphic mode (docs/polymorphic.md): standard base64 of 256 and of 160 bytes
POLYMORPHIC_PATTERN = r"^[A-Za-z0-9+/]{342}==$"
ENCRYPTED_PSEUDONYM_PATTERN = r"^[A-Za-z0-9+/]{214}==$"
DELIVERED_PSEUDONYM_PATTERN = r"^[A-Za-z0-9+/]{128}$"
PHONE_PATTERN = r"^[0-9 +-]{1,30}$"

OIN_REGEX = re.compile(r"[0-9]{20}")
"""Use with ``fullmatch``; ``[0-9]`` because ``\\d`` also matches non-ASCII digits."""

_LINE_BREAKS = frozenset("\t\n\r")


def _metadata(kwargs: dict[str, Any], **defaults: Any) -> None:
    """Merge OpenAPI hints into ``metadata`` without overriding the caller's own."""
    kwargs["metadata"] = {**defaults, **kwargs.get("metadata", {})}


class Text(fields.String):
    """A string of ``min_length``..``max_length`` characters of clean Unicode text.

    ``multiline`` text (remarks, reasons) may hold tabs and line breaks; other text may not.
    A required text must contain something besides spaces.
    """

    default_error_messages = {
        **BASE_MESSAGES,
        "invalid": "Must be a string.",
        "surrogate": "Must be valid Unicode text.",
        "control": "Must not contain control characters.",
        "blank": "Must not be blank.",
    }

    def __init__(
        self, *, max_length: int, min_length: int = 1, multiline: bool = False, **kwargs: Any
    ) -> None:
        self.multiline = multiline
        self.min_length = min_length
        length = validate.Length(
            min=min_length,
            max=max_length,
            error=f"Must be {min_length} to {max_length} characters long.",
        )
        kwargs["validate"] = [length, *_as_list(kwargs.get("validate"))]
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        for char in value:
            if "\ud800" <= char <= "\udfff":
                raise self.make_error("surrogate")
            if unicodedata.category(char) == "Cc" and not (self.multiline and char in _LINE_BREAKS):
                raise self.make_error("control")
        if self.min_length > 0 and value.strip() == "":
            raise self.make_error("blank")
        return value


class Choice(fields.String):
    """One value out of a closed vocabulary (an enum in the OpenAPI document)."""

    default_error_messages = {**BASE_MESSAGES, "invalid": "Must be a string."}

    def __init__(self, choices: Sequence[str], **kwargs: Any) -> None:
        self.choices = tuple(choices)
        one_of = validate.OneOf(self.choices, error="Must be one of: {choices}.")
        kwargs["validate"] = [one_of, *_as_list(kwargs.get("validate"))]
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        return value


class _Patterned(fields.String):
    """A string that must match an ASCII-only regular expression as a whole."""

    pattern: str = ""
    message: str = ""

    default_error_messages = {**BASE_MESSAGES, "invalid": "Must be a string."}

    def __init__(self, **kwargs: Any) -> None:
        _metadata(kwargs, pattern=self.pattern)
        super().__init__(**kwargs)
        self._regex = re.compile(self.pattern.removeprefix("^").removesuffix("$"))

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        if not self._regex.fullmatch(value):
            raise ValidationError(self.message)
        return value


class Oin(_Patterned):
    """An organisation identification number (OIN): exactly 20 ASCII digits."""

    pattern = OIN_PATTERN
    message = "Must be an OIN: exactly 20 digits 0-9."


class Brin(_Patterned):
    """A school's BRIN code: two digits then two capital letters, e.g. ``12AB``."""

    pattern = BRIN_PATTERN
    message = "Must be a BRIN code: two digits then two capital letters, like 12AB."


class Pseudonym(_Patterned):
    """A pseudonym the gateway issued: 1 to 128 characters of ``A-Za-z0-9_-``."""

    pattern = PSEUDONYM_PATTERN
    message = "Must be a pseudonym: 1 to 128 characters of A-Z, a-z, 0-9, '_' and '-'."


class Polymorphic(_Patterned):
    """A polymorphic pseudonym with its link tag and proof: base64 of 256 bytes.

    Only the syntax is checked here; whether the bytes are group elements and the proof holds
    is the gateway's check (``pseudonymise.pep``), which needs its keys.
    """

    pattern = POLYMORPHIC_PATTERN
    message = "Must be a polymorphic pseudonym: standard base64 of 256 bytes (344 characters)."


class EncryptedPseudonym(_Patterned):
    """An encrypted own pseudonym with its equality proof: base64 of 160 bytes."""

    pattern = ENCRYPTED_PSEUDONYM_PATTERN
    message = "Must be an encrypted pseudonym: standard base64 of 160 bytes (216 characters)."


class DeliveredPseudonym(_Patterned):
    """What a recipient gets in polymorphic mode: a ciphertext under its key, base64 of 96 bytes."""

    pattern = DELIVERED_PSEUDONYM_PATTERN
    message = "Must be an encrypted pseudonym as delivered: standard base64 of 96 bytes."


class Bsn(_Patterned):
    """A burgerservicenummer: nine ASCII digits that pass the elfproef.

    The message is the same for every kind of wrong BSN and never contains the value.
    """

    pattern = BSN_PATTERN
    message = "is not a valid BSN"

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        bsn = super()._deserialize(value, attr, data, **kwargs)
        if not is_valid_bsn(bsn):
            raise ValidationError(self.message)
        return bsn


BsnField = Bsn


class Phone(_Patterned):
    """A telephone number as people write it: digits, spaces, ``+`` and ``-``, at most 30."""

    pattern = PHONE_PATTERN
    message = "Must be at most 30 characters of digits, spaces, '+' and '-', with a digit."

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        phone = super()._deserialize(value, attr, data, **kwargs)
        if not any(char in "0123456789" for char in phone):
            raise ValidationError(self.message)
        return phone


class Email(Text):
    """An email address of at most 254 characters with a dotted domain."""

    _validator = validate.Email(error="Must be a valid email address.")

    def __init__(self, **kwargs: Any) -> None:
        _metadata(kwargs, format="email")
        super().__init__(max_length=254, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        email = super()._deserialize(value, attr, data, **kwargs)
        self._validator(email)
        local, _, domain = email.rpartition("@")
        if len(local) > 64 or "." not in domain:
            raise ValidationError("Must be a valid email address.")
        return email


class StrictInteger(fields.Integer):
    """A JSON integer and nothing else: booleans, floats and strings are refused."""

    default_error_messages = {
        **BASE_MESSAGES,
        "invalid": "Must be a whole number (a JSON integer, not a string or decimal).",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return value


def bounded_integer(low: int, high: int, **kwargs: Any) -> StrictInteger:
    """A ``StrictInteger`` in ``low..high`` inclusive."""
    rng = validate.Range(min=low, max=high, error=f"Must be between {low} and {high}.")
    return StrictInteger(validate=[rng], **kwargs)


class JsonObject(fields.Dict):
    """Any JSON object, checked later by a more specific schema (e.g. a payload)."""

    default_error_messages = {**BASE_MESSAGES, "invalid": "Must be a JSON object."}


class Object(fields.Nested):
    """A nested JSON object described by its own strict schema."""

    default_error_messages = {**BASE_MESSAGES, "type": "Must be a JSON object."}


class ListOf(fields.List):
    """A JSON array, optionally non-empty and without repeated entries."""

    default_error_messages = {**BASE_MESSAGES, "invalid": "Must be a list."}

    def __init__(
        self,
        inner: fields.Field,
        *,
        min_items: int = 0,
        max_items: int | None = None,
        unique: bool = False,
        **kwargs: Any,
    ) -> None:
        checks: list[Any] = []
        if min_items or max_items is not None:
            error = (
                f"Must contain at least {min_items} {'entry' if min_items == 1 else 'entries'}."
                if max_items is None
                else f"Must contain {min_items} to {max_items} entries."
            )
            checks.append(validate.Length(min=min_items, max=max_items, error=error))
        if unique:
            checks.append(_no_repeats)
            _metadata(kwargs, uniqueItems=True)
        kwargs["validate"] = [*checks, *_as_list(kwargs.get("validate"))]
        super().__init__(inner, **kwargs)


def _no_repeats(values: Iterable[Any]) -> None:
    """Refuse a list that names the same entry twice, pointing at the repeat by position."""
    seen: list[Any] = []
    for index, value in enumerate(values):
        if value in seen:
            raise ValidationError(
                f"Must not contain the same entry twice; entry {index} repeats an earlier one."
            )
        seen.append(value)


def _as_list(validators: Any) -> list[Any]:
    if validators is None:
        return []
    if callable(validators):
        return [validators]
    return list(validators)
