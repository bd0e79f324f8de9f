"""The "pas toe of leg uit" table (the README's "API Design Rules" section) and the linter's suppressions
(.spectral.yaml) hold each other one-to-one: every override is one row with its linter rule
and place, every row with a place is one override, so neither changes alone. The table also
lists every core rule of the API Design Rules.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[3]
TABLE = REPO / "README.md"
RULESET = REPO / ".spectral.yaml"

CORE_RULES = (
    # the core rules of ADR 2.1 (Logius-standaarden/API-Design-Rules, DesignRules.md)
    "/core/naming-resources",
    "/core/naming-collections",
    "/core/interface-language",
    "/core/no-trailing-slash",
    "/core/path-segments-kebab-case",
    "/core/query-keys-camel-case",
    "/core/hide-implementation",
    "/core/lang-code",
    "/core/date-time/format",
    "/core/date-time/timezone",
    "/core/date-time/date-omit-time-portion",
    "/core/http-methods",
    "/core/http-safety",
    "/core/http-response-code",
    "/core/stateless",
    "/core/nested-child",
    "/core/resource-operations",
    "/core/error-handling/problem-details",
    "/core/error-handling/invalid-input",
    "/core/error-handling/all-errors",
    "/core/doc-openapi",
    "/core/doc-openapi-contact",
    "/core/doc-language",
    "/core/publish-openapi",
    "/core/deprecation-schedule",
    "/core/transition-period",
    "/core/uri-version",
    "/core/changelog",
    "/core/semver",
    "/core/version-header",
    "/core/transport/tls",
    "/core/transport/no-sensitive-uris",
    "/core/transport/security-headers",
    "/core/transport/cors",
    "/core/modules/geospatial",
    "/core/modules/signing",
    "/core/modules/encryption",
)


def rows(markdown: str) -> list[dict]:
    """The table's rows: ADR rule, linter rules, place, pas toe / leg uit, explanation."""
    found = []
    for line in markdown.splitlines():
        if not line.startswith("| `/core/"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        assert len(cells) == 5, line
        adr, linter, place, verdict, how = cells
        found.append(
            {
                "adr": adr.strip("`"),
                "linter": re.findall(r"`([^`]+)`", linter),
                "place": None if place == "-" else place.strip("`"),
                "verdict": verdict,
                "how": how,
            }
        )
    return found


def table_suppressions(markdown: str) -> list[tuple[str, str]]:
    """(linter rule, place) of every row with a place, duplicates kept."""
    found = []
    for row in rows(markdown):
        if row["place"] is None:
            continue
        assert len(row["linter"]) == 1, f"one linter rule per suppression row: {row}"
        assert row["verdict"] == "leg uit", f"a suppression is explained: {row}"
        found.append((row["linter"][0], row["place"]))
    return found


def place_of(pattern: str) -> str:
    """The table's name for an override's place: a document path, or a top-level member."""
    pointer = pattern.split("#", 1)[1]
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.strip("/").split("/")]
    if tokens[0] == "paths":
        assert len(tokens) == 2, f"a suppression covers one whole path, no more: {pattern}"
        return tokens[1]
    assert len(tokens) == 1, pattern
    return tokens[0]


def ruleset_suppressions(ruleset: dict) -> list[tuple[str, str]]:
    """(linter rule, place) of every override, duplicates kept."""
    found = []
    for override in ruleset.get("overrides", []):
        assert len(override["files"]) == 1, f"one place per override: {override}"
        (pattern,) = override["files"]
        assert "#" in pattern, f"an override without a place covers the whole file: {pattern}"
        for rule, severity in override["rules"].items():
            assert severity == "off", (rule, severity)
            found.append((rule, place_of(pattern)))
    return found


def mismatch(markdown: str, ruleset: dict) -> list[str]:
    """What one side has and the other has not (an empty list when they agree)."""
    table, spectral = table_suppressions(markdown), ruleset_suppressions(ruleset)
    problems = [f"listed twice in the table: {s}" for s in set(table) if table.count(s) > 1]
    problems += [f"overridden twice: {s}" for s in set(spectral) if spectral.count(s) > 1]
    problems += [f"in .spectral.yaml, not in the table: {s}" for s in set(spectral) - set(table)]
    problems += [f"in the table, not in .spectral.yaml: {s}" for s in set(table) - set(spectral)]
    return sorted(problems)


def test_every_suppression_is_one_row_and_every_row_one_suppression():
    markdown = TABLE.read_text(encoding="utf-8")
    ruleset = yaml.safe_load(RULESET.read_text(encoding="utf-8"))
    assert mismatch(markdown, ruleset) == []
    # the explanations the issue names are there (written by hand, not read from either file)
    assert set(ruleset_suppressions(ruleset)) >= {
        ("nlgov:paths-kebab-case", "/.well-known/oauth-authorization-server"),
        ("nlgov:use-problem-schema", "/oauth/token"),
    }


def test_a_change_on_one_side_alone_fails():
    markdown = TABLE.read_text(encoding="utf-8")
    ruleset = yaml.safe_load(RULESET.read_text(encoding="utf-8"))
    extra = {
        **ruleset,
        "overrides": [
            *ruleset["overrides"],
            {"files": ["**/openapi.json#/paths/~1api~1v1~1inbox"], "rules": {"x": "off"}},
        ],
    }
    assert mismatch(markdown, extra) == [
        "in .spectral.yaml, not in the table: ('x', '/api/v1/inbox')"
    ]
    fewer = {**ruleset, "overrides": ruleset["overrides"][1:]}
    assert len(mismatch(markdown, fewer)) == 1
    (line,) = [ln for ln in markdown.splitlines() if "| `/oauth/token` |" in ln]
    assert mismatch(markdown.replace(line, line + "\n" + line), ruleset) == [
        "listed twice in the table: ('nlgov:use-problem-schema', '/oauth/token')"
    ]


def test_the_table_lists_every_core_rule_with_a_verdict_and_a_reason():
    table = rows(TABLE.read_text(encoding="utf-8"))
    listed = {row["adr"] for row in table}
    assert [rule for rule in CORE_RULES if rule not in listed] == []
    assert listed <= set(CORE_RULES), listed - set(CORE_RULES)
    for row in table:
        assert row["verdict"] in ("pas toe", "leg uit"), row
        assert len(row["how"]) > 40, row
