"""The README's "what each role learns" table cannot drift from the policy data.

It is generated (``python -m gateway.docs.learning``); this test checks that the README holds
exactly the generated table, and, independently of the generator, that every shipped route
appears in its recipient's row with the identifier and fields the route policy gives.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from gateway.docs.learning import END, START, table

REPO = Path(__file__).resolve().parents[3]


def readme_table() -> str:
    text = (REPO / "README.md").read_text()
    start, end = text.index(START), text.index(END) + len(END)
    return text[start:end]


def test_the_readme_holds_the_generated_table():
    assert readme_table() == table(), "run python -m gateway.docs.learning and paste its output"


def test_every_route_is_in_its_recipients_row_as_the_policy_says():
    rows = {}
    for line in readme_table().splitlines()[3:-1]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0]] = cells
    routes = yaml.safe_load((REPO / "gateway/policies/routes.yaml").read_text())["routes"]
    for route in routes:
        received = rows[route["recipient_type"]][1].split("<br>")
        [entry] = [e for e in received if e.startswith(f"`{route['message_type']}` from a "
                                                       f"{route['sender_type']} ")]
        identifier = "the BSN" if route["identity"] == "bsn" else "its own pseudonym"
        assert f": {identifier};" in entry
        keep = route["profile"]["keep"]
        for name in ([] if keep == "*" else keep):
            assert name in entry
        for source, target in route["profile"].get("generalise", {}).items():
            assert f"{source}→{target}" in entry
        assert f"`{route['message_type']}`" in rows[route["sender_type"]][2]
    # only the leerplicht route gives the BSN; nobody else's row may say it does
    bsn_rows = {role for role, cells in rows.items() if ": the BSN;" in cells[1]}
    assert bsn_rows == {r["recipient_type"] for r in routes if r["identity"] == "bsn"}
