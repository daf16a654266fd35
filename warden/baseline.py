"""baseline.yaml read and validated into a frozen `Baseline`: modes, scope, limits, parameters, exemptions.

Every problem fails start-up with the file, the line and the key path; nothing is silently ignored.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import MAXYEAR, UTC, date, datetime, time, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from warden.control import ParamError
from warden.errors import BaselineError
from warden.model import Exemption, Limits, Mode
from warden.registry import CONTROL_IDS, control

#: Every control id warden knows: the implemented controls' declarations (detectors/).
KNOWN_CONTROLS: tuple[str, ...] = CONTROL_IDS

SUPPORTED_VERSIONS: tuple[int, ...] = (1,)
#: The top-level mode when the file names none: the conservative choice, so a forgotten line changes nothing.
DEFAULT_MODE = Mode.DRY_RUN
#: The expiry of `expires: 9999-12-31` ("never"): the end of that day is past the last representable instant.
END_OF_TIME = datetime.max.replace(tzinfo=UTC)

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_TAG = "tag:yaml.org,2002:"
_KINDS = {
    "str": "a string", "int": "an integer", "float": "a number", "bool": "a boolean",
    "null": "empty (null)", "timestamp": "a date", "seq": "a list", "map": "a mapping",
}  # fmt: skip
_TOP_KEYS = ("version", "mode", "scope", "limits", "controls", "exemptions")
# Limit keys with their maxima: a cool-down defers an event through Event Grid's redelivery, which gives up
# after 24 hours; the state store keeps attempts for 7 days, so a longer window would count less than it says.
_LIMIT_MAXIMA = {
    "max_actions_per_run": 100_000, "max_actions_per_hour": 1_000_000, "cooldown_seconds": 3600,
    "max_attempts": 1000, "attempt_window_hours": 168,
}  # fmt: skip
_LIMIT_KEYS = tuple(_LIMIT_MAXIMA)
_EXEMPTION_KEYS = ("resource", "control", "reason", "owner", "expires")


@dataclass(frozen=True)
class ControlConfig:
    """One entry of `controls:`: its own mode (None = the top-level mode) and its typed parameters (the
    control's `Params`, defaults filled in)."""

    mode: Mode | None
    params: Any


@dataclass(frozen=True)
class Baseline:
    """The validated baseline; `subscriptions` are lower-cased, `controls` holds only configured entries."""

    version: int
    mode: Mode
    subscriptions: frozenset[str]
    limits: Limits
    controls: Mapping[str, ControlConfig]
    exemptions: tuple[Exemption, ...]
    source: str

    def control_mode(self, control_id: str) -> Mode:
        """The control's own mode, else the top-level mode; off when the file does not list the control (a new
        version never starts enforcing a control nobody chose). Raises KeyError for an unknown control id."""
        _check_known(control_id)
        config = self.controls.get(control_id)
        if config is None:
            return Mode.OFF
        return config.mode if config.mode is not None else self.mode

    def params(self, control_id: str) -> Any:
        """The control's typed parameters (its declaration's `Params`), defaults filled in."""
        _check_known(control_id)
        config = self.controls.get(control_id)
        return config.params if config is not None else control(control_id).default_params()


def _check_known(control_id: str) -> None:
    # A detector emitting an id the baseline cannot configure is a bug; failing loudly beats a silent default.
    if control_id not in KNOWN_CONTROLS:
        raise KeyError(f"unknown control id {control_id!r}")


def load_baseline(path: str | Path) -> Baseline:
    """Read and validate a baseline file; raises BaselineError (file, line, problem)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: cannot read the baseline file: {exc}", path=str(path)) from exc
    return parse_baseline(text, source=str(path))


def parse_baseline(text: str, source: str = "<string>") -> Baseline:
    """Validate baseline YAML text; `source` names the file in error messages."""
    return _Reader(source).baseline(text)


class _Reader:
    """Walks the composed YAML node tree, so that every value keeps the line it came from."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._constructor = SafeConstructor()

    def fail(self, line: int, path: str, problem: str, *, cause: BaseException | None = None) -> NoReturn:
        """Raise the BaselineError for `line`, chained to `cause` (the parser's own error) when there is one."""
        where = f"{path}: " if path else ""
        raise BaselineError(f"{self.source}:{line}: {where}{problem}", path=self.source, line=line) from cause

    def at(self, node: Node, path: str, problem: str, *, cause: BaseException | None = None) -> NoReturn:
        self.fail(node.start_mark.line + 1, path, problem, cause=cause)

    # -- structure ---------------------------------------------------------------------------------------

    def baseline(self, text: str) -> Baseline:
        root = self.compose(text)
        top = self.mapping(root, "", _TOP_KEYS, required=("version", "scope"))
        version_node = top["version"][1]
        version = self.integer(version_node, "version", minimum=1)
        if version not in SUPPORTED_VERSIONS:
            self.at(version_node, "version", f"unsupported version {version} (supported: 1)")
        mode = self.mode(top["mode"][1], "mode") if "mode" in top else DEFAULT_MODE
        limits = self.limits(top["limits"][1]) if "limits" in top else Limits()
        controls = self.controls(top["controls"][1]) if "controls" in top else {}
        exemptions = self.exemptions(top["exemptions"][1]) if "exemptions" in top else ()
        return Baseline(
            version=version,
            mode=mode,
            subscriptions=self.subscriptions(top["scope"][1]),
            limits=limits,
            controls=MappingProxyType(controls),
            exemptions=exemptions,
            source=self.source,
        )

    def compose(self, text: str) -> Node:
        try:
            # Aliases are refused before composing: they would let a small file expand into a huge tree.
            for event in yaml.parse(text, Loader=yaml.SafeLoader):
                if getattr(event, "anchor", None) is not None:  # AliasEvent.anchor names the alias
                    line = event.start_mark.line + 1 if event.start_mark is not None else 1
                    self.fail(line, "", "YAML anchors and aliases are not allowed")
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else 1
            detail = "; ".join(p for p in (exc.context, exc.problem) if p)
            raise BaselineError(f"{self.source}:{line}: invalid YAML: {detail}", path=self.source, line=line) from exc
        except yaml.YAMLError as exc:
            raise BaselineError(f"{self.source}:1: invalid YAML: {exc}", path=self.source, line=1) from exc
        if root is None:
            self.fail(1, "", "the baseline file is empty")
        self.refuse_tags(root)
        return root

    def refuse_tags(self, node: Node, path: str = "") -> None:
        # Only plain YAML types; an explicit tag (!!python/..., !custom) means someone expects more than data.
        if not node.tag.startswith(_TAG) or node.tag[len(_TAG) :] not in _KINDS:
            self.at(node, path, f"YAML tags are not allowed ({node.tag!r})")
        if isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                self.refuse_tags(item, f"{path}[{i}]")
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                self.refuse_tags(key, path)
                self.refuse_tags(value, _join(path, str(key.value)))

    def kind(self, node: Node) -> str:
        return _KINDS.get(node.tag[len(_TAG) :], node.tag)  # every tag is a plain one after refuse_tags

    def expect(self, node: Node, path: str, tag: str) -> None:
        if node.tag != _TAG + tag:
            hint = " (quote it)" if tag == "str" and isinstance(node, ScalarNode) else ""
            self.at(node, path, f"expected {_KINDS[tag]}, got {self.kind(node)}{hint}")

    def mapping(
        self, node: Node, path: str, allowed: Sequence[str] | None, required: Sequence[str] = ()
    ) -> dict[str, tuple[Node, Node]]:
        """Keys to (key node, value node); refuses duplicates, unknown keys (with a suggestion), gaps."""
        self.expect(node, path, "map")
        assert isinstance(node, MappingNode)
        out: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            self.expect(key_node, path, "str")
            key = str(key_node.value)
            if key in out:
                first = out[key][0].start_mark.line + 1
                self.at(key_node, _join(path, key), f"duplicate key (first defined on line {first})")
            if allowed is not None and key not in allowed:
                self.at(key_node, _join(path, key), f"unknown key{_suggest(key, allowed)}")
            out[key] = (key_node, value_node)
        missing = [k for k in required if k not in out]
        if missing:
            self.at(node, _join(path, missing[0]), "required key is missing")
        return out

    def sequence(self, node: Node, path: str) -> list[Node]:
        self.expect(node, path, "seq")
        assert isinstance(node, SequenceNode)
        return list(node.value)

    def value(self, node: Node, path: str) -> object:
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
        if number < minimum:
            self.at(node, path, f"must be an integer >= {minimum}, got {number}")
        if maximum is not None and number > maximum:
            self.at(node, path, f"must be at most {maximum}, got {number}")
        return number

    def mode(self, node: Node, path: str) -> Mode:
        # YAML 1.1 reads a bare `off` as the boolean false; the raw text is what the admin meant.
        textual = isinstance(node, ScalarNode) and node.tag in (_TAG + "str", _TAG + "bool")
        raw = node.value if textual else None
        choices = ", ".join(m.value for m in Mode)
        if not isinstance(raw, str):
            self.at(node, path, f"expected a mode ({choices}), got {self.kind(node)}")
        try:
            return Mode(raw)
        except ValueError as exc:
            hint = _suggest(raw, [m.value for m in Mode], list_known=False)
            self.at(node, path, f"{raw!r} is not a mode (one of {choices}){hint}", cause=exc)

    # -- sections ----------------------------------------------------------------------------------------

    def subscriptions(self, node: Node) -> frozenset[str]:
        scope = self.mapping(node, "scope", ("subscriptions",), required=("subscriptions",))
        seq_node = scope["subscriptions"][1]
        items = self.sequence(seq_node, "scope.subscriptions")
        if not items:
            self.at(seq_node, "scope.subscriptions", "must list at least one subscription id")
        out: set[str] = set()
        for i, item in enumerate(items):
            sub = self.string(item, f"scope.subscriptions[{i}]")
            if not _GUID.match(sub):
                self.at(item, f"scope.subscriptions[{i}]", f"{sub!r} is not a subscription id (a GUID)")
            out.add(sub.lower())
        return frozenset(out)

    def limits(self, node: Node) -> Limits:
        given = self.mapping(node, "limits", _LIMIT_KEYS)
        defaults = Limits()

        def read(key: str, minimum: int, default: int) -> int:
            if key not in given:
                return default
            return self.integer(given[key][1], f"limits.{key}", minimum=minimum, maximum=_LIMIT_MAXIMA[key])

        return Limits(
            max_actions_per_run=read("max_actions_per_run", 1, defaults.max_actions_per_run),
            max_actions_per_hour=read("max_actions_per_hour", 1, defaults.max_actions_per_hour),
            cooldown=timedelta(seconds=read("cooldown_seconds", 0, int(defaults.cooldown.total_seconds()))),
            max_attempts=read("max_attempts", 1, defaults.max_attempts),
            attempt_window=timedelta(
                hours=read("attempt_window_hours", 1, int(defaults.attempt_window.total_seconds() // 3600))
            ),
        )

    def controls(self, node: Node) -> dict[str, ControlConfig]:
        entries = self.mapping(node, "controls", None)
        out: dict[str, ControlConfig] = {}
        for control_id, (key_node, value_node) in entries.items():
            path = f"controls.{control_id}"
            if control_id not in KNOWN_CONTROLS:
                self.at(key_node, path, f"unknown control id{_suggest(control_id, KNOWN_CONTROLS)}")
            declared = control(control_id)
            # `network.outbound:` with nothing after it: listed, with no settings of its own.
            if value_node.tag == _TAG + "null":
                out[control_id] = ControlConfig(mode=None, params=declared.default_params())
                continue
            parameters = declared.parameters()
            fields = self.mapping(value_node, path, ("mode", *parameters))
            mode = self.mode(fields["mode"][1], f"{path}.mode") if "mode" in fields else None
            given = {
                name: self.param(fields[name][1], f"{path}.{name}", spec.metadata["parse"])
                for name, spec in parameters.items()
                if name in fields
            }
            out[control_id] = ControlConfig(mode=mode, params=declared.make_params(given))
        return out

    def param(self, node: Node, path: str, parse: Any) -> object:
        """A parameter's typed value; its reader's ParamError is reported at the list item it names."""
        try:
            return parse(self.value(node, path))
        except ParamError as exc:
            at, where = node, path
            if exc.item is not None and isinstance(node, SequenceNode) and exc.item < len(node.value):
                at, where = node.value[exc.item], f"{path}[{exc.item}]"
            self.at(at, where, str(exc), cause=exc)

    def exemptions(self, node: Node) -> tuple[Exemption, ...]:
        out: list[Exemption] = []
        for i, item in enumerate(self.sequence(node, "exemptions")):
            path = f"exemptions[{i}]"
            fields = self.mapping(item, path, _EXEMPTION_KEYS, required=_EXEMPTION_KEYS)
            resource = self.string(fields["resource"][1], f"{path}.resource")
            if not (resource.lower().startswith("/subscriptions/") or resource.startswith("*")):
                # A pattern that cannot match an ARM id would exempt nothing, silently.
                problem = f"{resource!r} must be an ARM id or glob starting with /subscriptions/ (or *)"
                self.at(fields["resource"][1], f"{path}.resource", problem)
            control = self.string(fields["control"][1], f"{path}.control")
            if control != "*" and control not in KNOWN_CONTROLS:
                problem = f"unknown control id {control!r}{_suggest(control, KNOWN_CONTROLS)}"
                self.at(fields["control"][1], f"{path}.control", problem)
            out.append(
                Exemption(
                    resource_pattern=resource,
                    control_id=control,
                    reason=self.string(fields["reason"][1], f"{path}.reason"),
                    owner=self.string(fields["owner"][1], f"{path}.owner"),
                    expires=self.expiry(fields["expires"][1], f"{path}.expires"),
                )
            )
        return tuple(out)

    def expiry(self, node: Node, path: str) -> datetime:
        """A date means the end of that day UTC (the returned instant is the next midnight, exclusive); the end
        of 9999-12-31 ("never"), or a later instant in UTC, is past what a datetime holds: END_OF_TIME."""
        wanted = "a date (YYYY-MM-DD) or an ISO datetime with a zone"
        if node.tag not in (_TAG + "timestamp", _TAG + "str"):
            self.at(node, path, f"expected {wanted}, got {self.kind(node)}")
        value = self.value(node, path)
        if isinstance(value, str):
            text = value.strip()
            try:
                value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
            except ValueError as exc:
                self.at(node, path, f"{text!r} is not {wanted}", cause=exc)
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                self.at(node, path, f"{node.value!r} has no time zone (add Z or +00:00, or give a date)")
            try:
                return value.astimezone(UTC)
            except OverflowError as exc:
                if value.year == MAXYEAR:
                    return END_OF_TIME
                # 0001-01-01T00:00+01:00 is before the first representable instant in UTC.
                self.at(node, path, f"{node.value!r} is out of range (before 0001-01-01 in UTC)", cause=exc)
        assert isinstance(value, date)
        if value == date.max:  # 9999-12-31: its end is one microsecond after END_OF_TIME
            return END_OF_TIME
        return datetime.combine(value + timedelta(days=1), time(0), tzinfo=UTC)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _suggest(word: str, known: Sequence[str], *, list_known: bool = True) -> str:
    """The closest known name as a hint, so that a typo says what was meant instead of doing nothing."""
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(known)})" if list_known else ""
