"""gateway/audit/jcs.py writes exactly what the ``rfc8785`` package writes, for every document:
generated ones (hypothesis) and the edge cases the fast path must send to ``rfc8785``."""

from __future__ import annotations

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.audit import jcs

_scalars = (
    st.none() | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12)
)
_keys = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=8)
_documents = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_keys, children, max_size=4),
    max_leaves=20,
)


def assert_same(document) -> None:
    """Both write the same bytes, or both refuse the document with the same error."""
    try:
        expected = rfc8785.dumps(document)
    except (rfc8785.CanonicalizationError, UnicodeError) as error:
        with pytest.raises(type(error)):
            jcs.dumps(document)
    else:
        assert jcs.dumps(document) == expected


@settings(max_examples=200)
@given(_documents)
def test_any_document_is_written_as_rfc8785_writes_it(document):
    assert jcs.dumps(document) == rfc8785.dumps(document)


@pytest.mark.parametrize("document", [
    {"b": 1, "a": [True, None, "x"], "c": {"z": "", "y": -3}},
    {"control": "\x00\x01\x08\x0b\x1f\x7f", "quote": 'a"b\\c', "lines": "\n\r\t\b\f"},
    {"unicode": "één ß \u2028 \u2029 \U0001f600 \ufeff"},
    {"\u00e9": 1, "e": 2, "\U0001f600": 3, "\uffff": 4},  # non-ASCII keys: rfc8785's order
    {"big": 2**53, "small": -(2**53)},  # beyond doubles' integers
    {"float": 1.5, "zero": 0.0, "exp": 1e21},
    {"tuple": (1, 2)},
    [],
    {},
    "plain",
])
def test_edge_cases_match(document):
    assert_same(document)


def test_lone_surrogates_are_left_to_rfc8785():
    for document in ({"s": "\ud800"}, {"\udfff": 1}):
        assert_same(document)


def test_the_fast_path_is_taken_for_an_audit_document(monkeypatch):
    """The point of the module: a plain document never reaches the slow serialiser."""
    monkeypatch.setattr(rfc8785, "dumps", lambda document: pytest.fail("slow path taken"))
    document = {"seq": 12, "action": "exchange.send", "fields_forwarded": ["a", "b"],
                "legal_basis": {"type": "legal_obligation"}, "prev_hash": "0" * 64, "x": None}
    assert jcs.dumps(document).startswith(b'{"action":"exchange.send"')
