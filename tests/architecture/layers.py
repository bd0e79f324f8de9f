"""Reading the house from the code: every import of the production packages, placed on the
floors that ``docs/architecture.md`` writes down (its ``layers`` block).

Plain ``ast`` over the source files (function-local imports included), so the check sees
what the code says, not what happens to be imported at test time.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOTS = ("gateway", "consent", "schemas", "pseudonymise", "certs")
HTTP_FLOOR = "http"
FLASK_PACKAGES = ("flask", "flask_limiter", "werkzeug")


@dataclass(frozen=True)
class Unit:
    pattern: str
    floor: int
    floor_name: str

    def specificity(self) -> tuple[int, int]:
        parts = self.pattern.split(".")
        return len(parts), sum(part != "*" for part in parts)

    def matches(self, module: str) -> bool:
        parts, mine = module.split("."), self.pattern.split(".")
        if len(parts) < len(mine):
            return False
        return all(want in ("*", have) for want, have in zip(mine, parts, strict=False))


def read_layers(document: str) -> list[Unit]:
    """The ``layers`` block: one floor a line, top floor first, ``name: pattern pattern``."""
    block = re.search(r"```layers\n(.*?)```", document, re.S)
    if block is None:
        raise ValueError("no ```layers block")
    lines = [line for line in block.group(1).splitlines() if line.strip()]
    units = []
    for index, line in enumerate(lines):
        name, _, patterns = line.partition(":")
        floor = len(lines) - 1 - index  # the bottom floor is 0
        units += [Unit(pattern, floor, name.strip()) for pattern in patterns.split()]
    return units


def unit_of(module: str, units: list[Unit]) -> Unit | None:
    found = [unit for unit in units if unit.matches(module)]
    return max(found, key=Unit.specificity) if found else None


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported module (production packages) or top-level name (others)
    path: Path
    line: int


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts)  # gateway/__init__.py -> gateway.__init__


def _package_of(module: str, path: Path) -> str:
    if path.name == "__init__.py":
        return module.rsplit(".", 1)[0]
    return module.rsplit(".", 1)[0]


def _resolve(base: str, name: str, root: Path) -> str:
    """``base.name`` when that is a module of the tree, else ``base`` (``name`` is an attribute)."""
    candidate = f"{base}.{name}"
    as_path = root / candidate.replace(".", "/")
    if as_path.with_suffix(".py").is_file() or (as_path / "__init__.py").is_file():
        return candidate
    return base


def _normal(module: str, root: Path) -> str:
    """Packages are named by their ``__init__`` module, so that they have a unit of their own."""
    as_path = root / module.replace(".", "/")
    if (as_path / "__init__.py").is_file():
        return module + ".__init__"
    return module


def imports_of(path: Path, root: Path) -> list[Import]:
    module = module_name(path, root)
    package = _package_of(module, path)
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                if node.level > 1:
                    base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts)
                if node.module:
                    base = f"{base}.{node.module}"
                targets = [_resolve(base, alias.name, root) for alias in node.names]
            elif node.module and node.module.split(".")[0] in ROOTS:
                targets = [_resolve(node.module, alias.name, root) for alias in node.names]
            elif node.module:
                targets = [node.module]
        for target in targets:
            if target.split(".")[0] in ROOTS:
                target = _normal(target, root)
            found.append(Import(module, target, path, node.lineno))
    return found


def production_files(root: Path) -> list[Path]:
    return sorted(
        path
        for top in ROOTS
        for path in (root / top).rglob("*.py")
        if "__pycache__" not in path.parts
    )


@dataclass
class Report:
    upward: list[str]
    cycles: list[list[str]]
    unplaced: list[str]
    flask_below_http: list[str]

    @property
    def clean(self) -> bool:
        return not (self.upward or self.cycles or self.unplaced or self.flask_below_http)


def check(root: Path, units: list[Unit]) -> Report:
    http_floor = next(unit.floor for unit in units if unit.floor_name == HTTP_FLOOR)
    upward, unplaced, flask = [], set(), []
    graph: dict[str, set[str]] = defaultdict(set)
    for path in production_files(root):
        for item in imports_of(path, root):
            source = unit_of(item.source, units)
            if source is None:
                unplaced.add(item.source)
                continue
            top = item.target.split(".")[0]
            if top in FLASK_PACKAGES and source.floor < http_floor:
                flask.append(f"{item.path.relative_to(root)}:{item.line} imports {item.target}")
            if top not in ROOTS:
                continue
            target = unit_of(item.target, units)
            if target is None:
                unplaced.add(item.target)
                continue
            if target.pattern == source.pattern:
                continue
            graph[source.pattern].add(target.pattern)
            if target.floor > source.floor:
                upward.append(
                    f"{item.path.relative_to(root)}:{item.line} {item.source} ({source.floor_name})"
                    f" -> {item.target} ({target.floor_name})"
                )
    return Report(upward, _cycles(graph), sorted(unplaced), flask)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one unit (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result = []
    counter = 0
    nodes = set(graph) | {n for targets in graph.values() for n in targets}
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    result.append(sorted(component))
    return result
