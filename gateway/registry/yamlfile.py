"""Reading a YAML file while remembering the line of every value.

Error messages for the bootstrap file must name the line ("demo.yaml:14: ..."), which plain
``yaml.safe_load`` forgets. Composing the node tree ourselves keeps each node's start mark.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml


class YamlFileError(Exception):
    """The file is not readable YAML; ``line`` is 1-based where known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class LocatedDocument:
    """The plain Python value of a YAML document and the line of every path inside it."""

    value: object
    lines: dict[tuple, int] = field(default_factory=dict)

    def line_of(self, path: tuple) -> int | None:
        """The line of ``path`` or of its nearest ancestor."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())


def _construct(node: yaml.Node, path: tuple, lines: dict[tuple, int], loader) -> object:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int) or isinstance(key, bool):
                raise YamlFileError("mapping keys must be strings", key_node.start_mark.line + 1)
            if key in result:
                raise YamlFileError(f"duplicate key '{key}'", key_node.start_mark.line + 1)
            result[key] = _construct(value_node, (*path, key), lines, loader)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _construct(child, (*path, index), lines, loader)
            for index, child in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)


def load_located(text: str) -> LocatedDocument:
    """Parse one YAML document (safe tags only) with its line map."""
    try:
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as exc:  # e.g. a control character, found while reading the stream
        raise YamlFileError(f"not valid YAML: {exc}") from None
    try:
        node = loader.get_single_node()
        if node is None:
            return LocatedDocument(None, {(): 1})
        lines: dict[tuple, int] = {}
        value = _construct(node, (), lines, loader)
        return LocatedDocument(value, lines)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise YamlFileError(f"not valid YAML: {exc.problem or exc}", line) from None
    except yaml.YAMLError as exc:
        raise YamlFileError(f"not valid YAML: {exc}") from None
    except RecursionError:
        raise YamlFileError("not valid YAML: nested too deeply") from None
    except (ValueError, TypeError) as exc:
        # a scalar PyYAML cannot construct (an impossible date such as 2026-41-01)
        raise YamlFileError(
            f"not valid YAML: a value cannot be read ({type(exc).__name__})"
        ) from None
    finally:
        loader.dispose()
