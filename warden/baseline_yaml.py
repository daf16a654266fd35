"""The YAML layer of the baseline reader: a node tree that keeps every value's line, and typed readers over it.

Only plain data passes: no tags, no anchors or aliases, no nesting deeper than the file's shape needs, and no
scalar that YAML 1.1 (PyYAML) reads differently from YAML 1.2 (`010`, `1:00`, `0x10`, `1_000`, `yes`, `on`).
Every problem is recorded with the file, the line and the key path, and all are raised together (docs/baseline.md).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import NoReturn, ParamSpec, TypeVar

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import CollectionEndEvent, CollectionStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from warden.baseline_problems import Problems, Skip
from warden.model import Mode

TAG = "tag:yaml.org,2002:"
KINDS = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "null": "empty (null)",
    "timestamp": "a date",
    "seq": "a list",
    "map": "a mapping",
}
#: The deepest nesting of lists and mappings accepted. The baseline itself needs 4 (the top mapping, `controls`,
#: one control, a parameter's list); PyYAML's composer recurses once per level, so a file nested thousands deep
#: would otherwise end in a RecursionError instead of a line number.
MAX_DEPTH = 16

# Plain scalars whose reading depends on the YAML version. PyYAML implements YAML 1.1, which reads `010` as 8
# (octal), `1:00` as 60 (base 60), `0x10` as 16, `0b10` as 2, `1_000` as 1000 and yes/no/on/off as booleans;
# YAML 1.2 (and most other tools an admin may check the file with) reads them as 10, or as strings.
_PLAIN_DECIMAL = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_NUMBER_FORMS = (
    (re.compile(r"^[-+]?0b"), "binary"),
    (re.compile(r"^[-+]?0x"), "hexadecimal"),
    (re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$"), "base 60"),
    (re.compile(r"^[-+]?0[0-7_]+$"), "octal"),
    (re.compile(r"_"), "digits grouped with _"),
)
_PLAIN_BOOLEANS = frozenset({"true", "false"})

T = TypeVar("T")
P = ParamSpec("P")


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def closest(word: str, known: Sequence[str]) -> str | None:
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return close[0] if close else None


def suggest(word: str, known: Sequence[str], *, list_known: bool = True) -> str:
    """The closest known name as a hint, so that a typo says what was meant instead of doing nothing."""
    close = closest(word, known)
    return f"; did you mean {close!r}?" if close else f" (known: {', '.join(known)})" if list_known else ""


class NodeReader:
    """Composes the YAML text into nodes and reads typed values from them. A problem is recorded at the node's
    line and the value given up (Skip); `attempt` goes on with the next value, `finish` raises them all."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems = Problems(source)
        self._constructor = SafeConstructor()

    # -- problems ----------------------------------------------------------------------------------------

    def fail(self, line: int, path: str, problem: str, *, cause: BaseException | None = None) -> NoReturn:
        """Record the problem at `line` and give up the value being read."""
        self.problems.add(line, path, problem, cause)
        raise Skip

    def at(self, node: Node, path: str, problem: str, *, cause: BaseException | None = None) -> NoReturn:
        self.fail(node.start_mark.line + 1, path, problem, cause=cause)

    def note(self, node: Node, path: str, problem: str) -> None:
        """Record a problem that leaves the rest of the value readable (an unknown key, say)."""
        self.problems.add(node.start_mark.line + 1, path, problem)

    def fatal(self, line: int, problem: str, *, cause: BaseException | None = None) -> NoReturn:
        """A problem after which nothing more can be read: raise it with every problem found so far."""
        self.problems.add(line, "", problem, cause)
        self.problems.raise_all()

    def attempt(self, fallback: T, read: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`read(...)`, or `fallback` when it gave up on a problem. The fallback only lets the reading go on:
        `finish` then refuses the file, so it never reaches a Baseline."""
        try:
            return read(*args, **kwargs)
        except Skip:
            return fallback

    def finish(self) -> None:
        """Raise every problem found, if there is one."""
        if self.problems.count:
            self.problems.raise_all()

    # -- the node tree -----------------------------------------------------------------------------------

    def compose(self, text: str) -> Node:
        """The node tree; what leaves the rest unreadable (invalid YAML, anchors, deep nesting, an empty file,
        tags) is fatal."""
        try:
            # The event stream is checked before composing: PyYAML's parser is iterative, its composer (and the
            # walkers below) recursive. Aliases would let a small file expand into a huge tree.
            depth = 0
            for event in yaml.parse(text, Loader=yaml.SafeLoader):
                line = event.start_mark.line + 1 if event.start_mark is not None else 1
                if getattr(event, "anchor", None) is not None:  # AliasEvent.anchor names the alias
                    self.fatal(line, "YAML anchors and aliases are not allowed; write the value out")
                if isinstance(event, CollectionStartEvent):
                    depth += 1
                    if depth > MAX_DEPTH:
                        self.fatal(line, f"lists and mappings nest deeper than {MAX_DEPTH} levels")
                elif isinstance(event, CollectionEndEvent):
                    depth -= 1
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            detail = "; ".join(p for p in (exc.context, exc.problem) if p)
            self.fatal(mark.line + 1 if mark is not None else 1, f"invalid YAML: {detail}", cause=exc)
        except yaml.YAMLError as exc:
            self.fatal(1, f"invalid YAML: {exc}", cause=exc)
        if root is None:
            self.fatal(1, "the baseline file is empty (it needs at least `version: 1` and `scope:`)")
        self.refuse_tags(root)
        return root

    def refuse_tags(self, node: Node, path: str = "") -> None:
        # Only plain YAML types; an explicit tag (!!python/..., !custom) means someone expects more than data.
        for each, where in _nodes(node, path):
            if not each.tag.startswith(TAG) or each.tag[len(TAG) :] not in KINDS:
                self.note(each, where, f"YAML tags are not allowed ({each.tag!r}); write the plain value")
        self.finish()

    def refuse_ambiguous(self, node: Node, path: str) -> None:
        """Refuse every plain scalar under `node` that YAML 1.1 and YAML 1.2 read differently."""
        before = self.problems.count
        for each, where in _nodes(node, path):
            if isinstance(each, ScalarNode) and each.style is None:  # quoted scalars are strings in every version
                problem = _ambiguity(each, self._constructor)
                if problem:
                    self.note(each, where, problem)
        if self.problems.count > before:
            raise Skip

    # -- typed values ------------------------------------------------------------------------------------

    def kind(self, node: Node) -> str:
        return KINDS.get(node.tag[len(TAG) :], node.tag)  # every tag is a plain one after refuse_tags

    def mismatch(self, node: Node, tag: str) -> str:
        """What is wrong when `node` is not of type `tag`; "" when it is."""
        if node.tag == TAG + tag:
            return ""
        hint = " (quote it)" if tag == "str" and isinstance(node, ScalarNode) else ""
        return f"expected {KINDS[tag]}, got {self.kind(node)}{hint}"

    def expect(self, node: Node, path: str, tag: str) -> None:
        problem = self.mismatch(node, tag)
        if problem:
            self.at(node, path, problem)

    def mapping(
        self, node: Node, path: str, allowed: Sequence[str] | None, required: Mapping[str, str] | None = None
    ) -> dict[str, tuple[Node, Node]]:
        """Keys to (key node, value node). Every duplicate and unknown key (with a suggestion) and every missing
        `required` key (with its hint) is a problem; the other keys are still read."""
        self.expect(node, path, "map")
        assert isinstance(node, MappingNode)
        out: dict[str, tuple[Node, Node]] = {}
        meant: set[str] = set()  # what misspelt keys were meant to be: not missing as well
        for key_node, value_node in node.value:
            problem = self.mismatch(key_node, "str")
            key = str(key_node.value)
            if problem:
                self.note(key_node, path, problem)
            elif key in out:
                first = out[key][0].start_mark.line + 1
                self.note(key_node, join(path, key), f"duplicate key (first defined on line {first}); keep one")
            elif allowed is not None and key not in allowed:
                self.note(key_node, join(path, key), f"unknown key{suggest(key, allowed)}")
                meant.add(closest(key, allowed) or "")
            else:
                out[key] = (key_node, value_node)
        for key, hint in (required or {}).items():
            if key not in out and key not in meant:
                self.note(node, join(path, key), f"required key is missing ({hint})")
        return out

    def sequence(self, node: Node, path: str) -> list[Node]:
        self.expect(node, path, "seq")
        assert isinstance(node, SequenceNode)
        return list(node.value)

    def value(self, node: Node, path: str) -> object:
        self.refuse_ambiguous(node, path)
        try:
            return self._constructor.construct_object(node, deep=True)
        except (ValueError, yaml.YAMLError) as exc:
            self.at(node, path, f"invalid value {getattr(node, 'value', '')!r}: {exc}", cause=exc)

    def string(self, node: Node, path: str) -> str:
        self.expect(node, path, "str")
        text = str(self.value(node, path)).strip()
        if not text:
            self.at(node, path, "must not be empty")
        return text

    def integer(self, node: Node, path: str, *, minimum: int, maximum: int | None = None) -> int:
        self.expect(node, path, "int")
        number = self.value(node, path)
        assert isinstance(number, int)
        allowed = f" (allowed: {minimum} to {maximum})" if maximum is not None else ""
        if number < minimum:
            self.at(node, path, f"must be an integer >= {minimum}, got {number}{allowed}")
        if maximum is not None and number > maximum:
            self.at(node, path, f"must be at most {maximum}, got {number}{allowed}")
        return number

    def boolean(self, node: Node, path: str) -> bool:
        self.expect(node, path, "bool")
        flag = self.value(node, path)
        assert isinstance(flag, bool)
        return flag

    def mode(self, node: Node, path: str) -> Mode:
        # YAML 1.1 reads a bare `off` as the boolean false; the raw text is what the admin meant.
        textual = isinstance(node, ScalarNode) and node.tag in (TAG + "str", TAG + "bool")
        raw = node.value if textual else None
        choices = ", ".join(m.value for m in Mode)
        if not isinstance(raw, str):
            self.at(node, path, f"expected a mode ({choices}), got {self.kind(node)}")
        try:
            return Mode(raw)
        except ValueError as exc:
            hint = suggest(raw, [m.value for m in Mode], list_known=False)
            self.at(node, path, f"{raw!r} is not a mode (one of {choices}){hint}", cause=exc)


def _nodes(node: Node, path: str) -> Iterator[tuple[Node, str]]:
    """`node` and every node under it, each with its path. Recursive, but over a tree that compose() has
    bounded to MAX_DEPTH."""
    yield node, path
    if isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            yield from _nodes(item, f"{path}[{i}]")
    elif isinstance(node, MappingNode):
        for key, value in node.value:
            yield from _nodes(key, path)
            yield from _nodes(value, join(path, str(key.value)))


def _ambiguity(node: ScalarNode, constructor: SafeConstructor) -> str:
    """Why a plain scalar is ambiguous across YAML versions, with what to write instead; "" when it is not."""
    text = str(node.value)
    if node.tag == TAG + "bool" and text.lower() not in _PLAIN_BOOLEANS:
        reading = "true" if text.lower() in ("yes", "on") else "false"
        return (
            f"{text!r} is ambiguous: YAML 1.1 reads it as {reading}, YAML 1.2 as the string {text!r}; "
            f"write {reading} (or quote it: '{text}')"
        )
    if node.tag in (TAG + "int", TAG + "float") and not _PLAIN_DECIMAL.match(text):
        form = next((name for pattern, name in _NUMBER_FORMS if pattern.search(text)), "")
        if not form:
            return ""  # a plain decimal fraction or exponent: one reading everywhere
        reading = constructor.construct_object(node)
        return (
            f"{text!r} is ambiguous: YAML 1.1 reads it as {reading} ({form}), other YAML readers differently; "
            f"write {reading} (or quote it: '{text}')"
        )
    return ""
