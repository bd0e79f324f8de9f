"""The vendored API Design Rules ruleset (standards/adr-linter.yaml) is the team's shared copy,
byte for byte, so a clone anywhere lints with the same rules as one beside ../shared."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SHARED = REPO.parent / "shared" / "standards" / "adr-linter.yaml"
VENDORED = REPO / "standards" / "adr-linter.yaml"


def test_the_vendored_ruleset_is_the_shared_one():
    assert VENDORED.is_file()
    assert "nlgov:" in VENDORED.read_text(encoding="utf-8")  # Logius's rules, not an empty file
    if SHARED.is_file():  # beside ../shared (a clone elsewhere has only the vendored copy)
        assert VENDORED.read_bytes() == SHARED.read_bytes(), "update standards/adr-linter.yaml"
