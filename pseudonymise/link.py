"""``LinkTag``: a child known only by its polymorphic link tag, the way ``Bsn`` is a BSN.

In polymorphic mode the gateway never holds a BSN; it holds ``t*M`` (32 bytes), proven by
the sender to belong to the child it encrypted. The tag is as identifying as a pseudonym, so
it gets the same care: a value type whose ``repr`` and ``str`` are masked, so it cannot slip
into a log line or an exception text.
"""

from __future__ import annotations

LINK_TAG_BYTES = 32


class LinkTag:
    """The 32-byte link tag of one child; masked when printed."""

    __slots__ = ("_value",)

    def __init__(self, value: bytes) -> None:
        if type(value) is not bytes or len(value) != LINK_TAG_BYTES:
            raise ValueError("a link tag is 32 bytes")
        self._value = value

    @property
    def value(self) -> bytes:
        return self._value

    def __eq__(self, other: object) -> bool:
        return type(other) is LinkTag and other._value == self._value

    def __hash__(self) -> int:
        return hash((LinkTag, self._value))

    def __repr__(self) -> str:
        return "LinkTag(<masked>)"

    __str__ = __repr__
