"""Reading infra/*.bicep with tree-sitter-bicep for the infra tests: parse errors, resources by type, and the
literal values of object properties (the app settings' names, the event subscriptions' filter keys)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import tree_sitter as ts
import tree_sitter_bicep

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
_PARSER = ts.Parser(ts.Language(tree_sitter_bicep.language()))


def bicep_files() -> list[Path]:
    return sorted(INFRA.rglob("*.bicep"))


def parse(path: Path) -> ts.Node:
    return _PARSER.parse(path.read_bytes()).root_node


def problems(root: ts.Node, path: Path) -> list[str]:
    """Each ERROR or MISSING node as `file:line:column: text`, for the assertion message."""
    out = []
    for node in walk(root):
        if node.is_error or node.is_missing:
            line, column = node.start_point
            kind = "missing" if node.is_missing else "cannot parse"
            out.append(f"{path.relative_to(REPO)}:{line + 1}:{column + 1}: {kind} {node.text.decode()[:60]!r}")
    return out


def walk(node: ts.Node) -> Iterator[ts.Node]:
    yield node
    for child in node.children:
        yield from walk(child)


def string_value(node: ts.Node | None) -> str | None:
    """The text of a plain string literal (no interpolation); None for anything else."""
    if node is None or node.type != "string":
        return None
    parts = [c for c in node.children if c.type not in ("'", "'''")]
    if any(c.type != "string_content" for c in parts):
        return None
    return "".join(c.text.decode() for c in parts)


@dataclass(frozen=True)
class Property:
    name: str
    value: ts.Node


def properties(obj: ts.Node) -> list[Property]:
    """The properties of an `object` node, in order."""
    out = []
    for child in obj.children:
        if child.type == "object_property":
            key, value = child.children[0], child.children[-1]
            out.append(Property(string_value(key) or key.text.decode(), value))
    return out


def fields(obj: ts.Node) -> dict[str, ts.Node]:
    """The properties of an `object` node by name."""
    return {p.name: p.value for p in properties(obj)}


def items(array: ts.Node) -> list[ts.Node]:
    """The `object` items of an `array` node."""
    return [node for node in array.children if node.type == "object"]


def find_properties(root: ts.Node, name: str) -> list[ts.Node]:
    """The values of every object property called `name`, anywhere under `root`."""
    return [p.value for node in walk(root) if node.type == "object" for p in properties(node) if p.name == name]


def resources(root: ts.Node, type_prefix: str) -> list[tuple[str, ts.Node]]:
    """(type@version, body) of each resource declaration whose type starts with `type_prefix`."""
    out = []
    for node in walk(root):
        if node.type == "resource_declaration":
            kind = string_value(next(c for c in node.children if c.type == "string")) or ""
            if kind.startswith(type_prefix):
                out.append((kind, node))
    return out
