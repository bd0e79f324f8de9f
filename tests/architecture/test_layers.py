"""The house holds: imports run down the floors of docs/architecture.md, never up, never in
a circle; nothing below the HTTP layer imports Flask; ``app.extensions`` has one reader; each
service is constructed in one place (the composition root); pages and API handlers read and
write through services, never through the database's tables.

Each check is also run against a copy of the tree with one defect planted, to show that it
fails when the defect is there.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
from layers import ROOTS, check, imports_of, production_files, read_layers, unit_of

REPO = Path(__file__).resolve().parents[2]
LAYERS = read_layers((REPO / "docs" / "architecture.md").read_text(encoding="utf-8"))

EXTENSION_READERS = {"gateway/app.py", "gateway/services.py"}
"""The only modules that touch ``app.extensions``: the factory writes, the accessor reads."""

SERVICES = (
    "AuditLog",
    "AuditService",
    "AuditTrail",
    "Checkpointer",
    "ConsentApi",
    "ConsentService",
    "CountingConsentChecker",
    "Database",
    "DomainPseudonymiser",
    "ExchangeService",
    "ExchangeStats",
    "GatewayAuthorizationServer",
    "KeyStore",
    "MatchNotifier",
    "MonitoringService",
    "OAuthStore",
    "OrganisationRegistry",
    "PolymorphicSubjects",
    "ReidentificationService",
    "Sealer",
    "ServiceProvider",
    "SessionStore",
    "SignalService",
    "TokenService",
    "WebTrail",
)
"""Long-lived services: each is built by exactly one call in the production code. (The
polymorphic subjects' null object, ``PolymorphicSubjects.unavailable()``, the default of a
service a unit test builds without keys, is not a second service.)"""

FROZEN = ("gateway/migrations/",)
"""Migrations are programs of their own, frozen once released (0012 opens its own key
store to re-key stored rows); they are not part of the running gateway's wiring."""


def _production_sources(root: Path):
    for path in production_files(root):
        relative = path.relative_to(root).as_posix()
        yield relative, ast.parse(path.read_text(encoding="utf-8"), relative)


def extension_readers(root: Path) -> list[str]:
    """``<something app>.extensions`` anywhere but the factory and the accessor."""
    found = []
    for relative, tree in _production_sources(root):
        if relative in EXTENSION_READERS:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "extensions":
                owner = ast.unparse(node.value)
                if owner.endswith("app") or owner.endswith("app()"):
                    found.append(f"{relative}:{node.lineno} {ast.unparse(node)}")
    return found


def constructions(root: Path) -> dict[str, list[str]]:
    """Where each service class is called, outside the frozen migrations."""
    found: dict[str, list[str]] = {name: [] for name in SERVICES}
    for relative, tree in _production_sources(root):
        if relative.startswith(FROZEN):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(
                node.func, "id", None
            )
            if name in found:
                found[name].append(f"{relative}:{node.lineno}")
    return found


def test_imports_run_down_the_floors_without_circles():
    report = check(REPO, LAYERS)
    assert report.unplaced == [], "modules no floor names: add them to docs/architecture.md"
    assert report.upward == []
    assert report.cycles == []
    assert report.flask_below_http == []


def test_app_extensions_are_read_only_by_the_factory_and_the_accessor():
    assert extension_readers(REPO) == []


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_is_constructed_in_one_place(service):
    places = constructions(REPO)[service]
    assert len(places) == 1, f"{service} is built at {places}"


HANDLER_FLOORS = ("pages", "api")
DIRECT_STORAGE = {
    "gateway.ops.readiness",  # /readyz probes the database itself: that is its answer
}


def storage_in_handlers(root: Path) -> list[str]:
    """Imports of SQLAlchemy or of a ``models`` module on the pages and API floors: a handler
    that queries tables itself is a second, unreviewed way to the data (and its rules)."""
    found = []
    for path in production_files(root):
        for item in imports_of(path, root):
            unit = unit_of(item.source, LAYERS)
            if unit is None or unit.floor_name not in HANDLER_FLOORS:
                continue
            if item.source in DIRECT_STORAGE:
                continue
            target = item.target
            if target.split(".")[0] == "sqlalchemy" or target.endswith(".models"):
                found.append(f"{path.relative_to(root)}:{item.line} {target}")
    return found


def test_pages_and_handlers_reach_the_data_only_through_services():
    assert storage_in_handlers(REPO) == []


# --- the checks can fail ---------------------------------------------------------------------


@pytest.fixture
def tree_copy(tmp_path) -> Path:
    for top in ROOTS:
        shutil.copytree(REPO / top, tmp_path / top, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _plant(path: Path, code: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n\n" + code + "\n", encoding="utf-8")


def test_an_upward_import_inside_a_function_is_found(tree_copy):
    before = check(tree_copy, LAYERS).upward
    _plant(
        tree_copy / "gateway" / "clock.py",
        "def _planted():\n    from .exchange import service\n\n    return service",
    )
    planted = set(check(tree_copy, LAYERS).upward) - set(before)
    assert any("gateway/clock.py" in line and "gateway.exchange.service" in line
               for line in planted)


def test_a_circle_between_units_of_one_floor_is_found(tree_copy):
    def joined(cycles):
        return any({"gateway.audit", "gateway.registry"} <= set(cycle) for cycle in cycles)

    assert not joined(check(tree_copy, LAYERS).cycles)
    # two units of one floor (the ledger) importing each other make a circle
    _plant(tree_copy / "gateway" / "registry" / "rules.py", "from ..audit import chain")
    _plant(tree_copy / "gateway" / "audit" / "chain.py", "from ..registry import rules")
    assert joined(check(tree_copy, LAYERS).cycles)


def test_flask_below_the_http_layer_is_found(tree_copy):
    _plant(tree_copy / "gateway" / "exchange" / "pipeline.py", "import flask")
    assert any("gateway/exchange/pipeline.py" in line
               for line in check(tree_copy, LAYERS).flask_below_http)


def test_a_module_no_floor_names_is_found(tree_copy):
    (tree_copy / "unplanned").mkdir()
    (tree_copy / "gateway" / "newarea").mkdir()
    (tree_copy / "gateway" / "newarea" / "__init__.py").write_text("from .. import clock\n")
    assert "gateway.newarea.__init__" in check(tree_copy, LAYERS).unplaced


def test_a_second_extensions_reader_and_a_second_audit_log_are_found(tree_copy):
    _plant(
        tree_copy / "gateway" / "exchange" / "views.py",
        "def _planted():\n    return current_app.extensions['gateway']",
    )
    _plant(
        tree_copy / "gateway" / "web" / "trail.py",
        "def _planted():\n    return AuditLog()",
    )
    assert any("gateway/exchange/views.py" in line for line in extension_readers(tree_copy))
    assert "gateway/web/trail.py" in " ".join(constructions(tree_copy)["AuditLog"])


def test_a_page_querying_a_table_itself_is_found(tree_copy):
    _plant(
        tree_copy / "gateway" / "web" / "auditdesk.py",
        "from ..exchange.models import RoutePolicyRow  # noqa",
    )
    assert any("gateway/web/auditdesk.py" in line and "gateway.exchange.models" in line
               for line in storage_in_handlers(tree_copy))
