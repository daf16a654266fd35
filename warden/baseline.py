"""baseline.yaml read and validated into a frozen `Baseline`: modes, scope, limits, parameters, exemptions.

Every problem fails start-up with the file, the line and the key path, all of them at once; nothing is silently
ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from yaml.nodes import Node, SequenceNode

from warden.baseline_exemptions import END_OF_TIME, read_exemptions
from warden.baseline_yaml import TAG, NodeReader, suggest
from warden.control import ParamError
from warden.errors import BaselineError
from warden.ids import is_guid
from warden.model import Exemption, Limits, Mode
from warden.registry import CONTROL_IDS, control

__all__ = [
    "DEFAULT_MODE",
    "END_OF_TIME",
    "KNOWN_CONTROLS",
    "SUPPORTED_VERSIONS",
    "Baseline",
    "ControlConfig",
    "load_baseline",
    "parse_baseline",
]

#: Every control id warden knows: the implemented controls' declarations (detectors/).
KNOWN_CONTROLS: tuple[str, ...] = CONTROL_IDS

SUPPORTED_VERSIONS: tuple[int, ...] = (1,)
#: The top-level mode when the file names none: the conservative choice, so a forgotten line changes nothing.
DEFAULT_MODE = Mode.DRY_RUN

_TOP_KEYS = ("version", "mode", "scope", "limits", "controls", "exemptions")
# Limit keys with their maxima: a cool-down defers an event through Event Grid's redelivery, which gives up
# after 24 hours; the state store keeps attempts for 7 days, so a longer window would count less than it says.
_LIMIT_MAXIMA = {
    "max_actions_per_run": 100_000,
    "max_actions_per_hour": 1_000_000,
    "cooldown_seconds": 3600,
    "max_attempts": 1000,
    "attempt_window_hours": 168,
}
_LIMIT_KEYS = tuple(_LIMIT_MAXIMA)
_LIST_IDS = '`az account list --query "[].id" -o tsv` lists yours'
# Required keys with what to write when one is missing.
_TOP_REQUIRED = {"version": "add `version: 1`", "scope": "add `scope:` with `subscriptions: [<subscription id>]`"}
_SCOPE_REQUIRED = {"subscriptions": "add `subscriptions: [<subscription id>]`"}


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

    def in_scope(self, subscription_id: str) -> bool:
        """Whether the subscription is in scope (compared case-insensitively)."""
        return subscription_id.strip().lower() in self.subscriptions

    def control_mode(self, control_id: str) -> Mode:
        """The control's own mode, else the top-level mode up to the control's `mode_ceiling`; off when the file
        does not list the control (a new version never starts enforcing a control nobody chose). Raises KeyError
        for an unknown control id."""
        _check_known(control_id)
        config = self.controls.get(control_id)
        if config is None:
            return Mode.OFF
        if config.mode is not None:
            return config.mode
        ceiling = control(control_id).mode_ceiling
        return ceiling if ceiling.rank < self.mode.rank else self.mode

    def params(self, control_id: str) -> Any:
        """The control's typed parameters (its declaration's `Params`), defaults filled in."""
        _check_known(control_id)
        config = self.controls.get(control_id)
        return config.params if config is not None else control(control_id).default_params()


def _check_known(control_id: str) -> None:
    # A detector emitting an id the baseline cannot configure is a bug; failing loudly beats a silent default.
    if control_id not in KNOWN_CONTROLS:
        raise KeyError(f"unknown control id {control_id!r}")


def load_baseline(path: str | Path, *, now: datetime | None = None) -> Baseline:
    """Read and validate a baseline file; raises BaselineError (file, line, problem). `now` is when it is
    read (default: the clock), which bounds how long a broad exemption may run."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: cannot read the baseline file: {exc}", path=str(path)) from exc
    return parse_baseline(text, source=str(path), now=now)


def parse_baseline(text: str, source: str = "<string>", *, now: datetime | None = None) -> Baseline:
    """Validate baseline YAML text; `source` names the file in error messages, `now` as in load_baseline."""
    return _Reader(source).baseline(text, now or datetime.now(UTC))


class _Reader(NodeReader):
    """Reads the baseline's sections from the composed node tree, so that every value keeps its line. Each
    section, entry and value is read on its own, so that one run finds every problem in the file."""

    def baseline(self, text: str, now: datetime) -> Baseline:
        root = self.compose(text)
        top = self.attempt(None, self.mapping, root, "", _TOP_KEYS, required=_TOP_REQUIRED)
        if top is None:  # not a mapping: nothing else can be read
            self.finish()
        assert top is not None
        version = self.attempt(1, self.version, top["version"][1]) if "version" in top else 1
        mode = self.attempt(DEFAULT_MODE, self.mode, top["mode"][1], "mode") if "mode" in top else DEFAULT_MODE
        subscriptions = self.attempt(frozenset(), self.subscriptions, top["scope"][1]) if "scope" in top else None
        limits = self.attempt(Limits(), self.limits, top["limits"][1]) if "limits" in top else Limits()
        controls = self.attempt({}, self.controls, top["controls"][1]) if "controls" in top else {}
        exemptions = self.attempt((), read_exemptions, self, top["exemptions"][1], now) if "exemptions" in top else ()
        self.finish()
        assert subscriptions is not None  # a missing scope is a problem, raised by finish()
        return Baseline(
            version=version,
            mode=mode,
            subscriptions=subscriptions,
            limits=limits,
            controls=MappingProxyType(controls),
            exemptions=exemptions,
            source=self.source,
        )

    # -- sections ----------------------------------------------------------------------------------------

    def version(self, node: Node) -> int:
        version = self.integer(node, "version", minimum=1)
        if version not in SUPPORTED_VERSIONS:
            self.at(node, "version", f"unsupported version {version} (supported: 1)")
        return version

    def subscriptions(self, node: Node) -> frozenset[str]:
        scope = self.mapping(node, "scope", ("subscriptions",), required=_SCOPE_REQUIRED)
        if "subscriptions" not in scope:
            return frozenset()  # its problem is recorded
        seq_node = scope["subscriptions"][1]
        items = self.sequence(seq_node, "scope.subscriptions")
        if not items:
            self.at(seq_node, "scope.subscriptions", f"must list at least one subscription id ({_LIST_IDS})")
        return frozenset(
            self.attempt("", self.subscription, item, f"scope.subscriptions[{i}]") for i, item in enumerate(items)
        )

    def subscription(self, node: Node, path: str) -> str:
        sub = self.string(node, path)
        if not is_guid(sub):
            problem = f"{sub!r} is not a subscription id (a GUID, 8-4-4-4-12 hex digits); {_LIST_IDS}"
            self.at(node, path, problem)
        return sub.lower()

    def limits(self, node: Node) -> Limits:
        given = self.mapping(node, "limits", _LIMIT_KEYS)
        defaults = Limits()

        def read(key: str, minimum: int, default: int) -> int:
            if key not in given:
                return default
            maximum = _LIMIT_MAXIMA[key]
            return self.attempt(default, self.integer, given[key][1], f"limits.{key}", minimum=minimum, maximum=maximum)

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
                # Its settings are not checked: they would be wrong only for lack of the right id.
                self.note(key_node, path, f"unknown control id{suggest(control_id, KNOWN_CONTROLS)}")
                continue
            config = self.attempt(None, self.control_config, control_id, value_node, path)
            if config is not None:
                out[control_id] = config
        return out

    def control_config(self, control_id: str, node: Node, path: str) -> ControlConfig | None:
        """One entry of `controls:`; None when a problem in it is recorded."""
        declared = control(control_id)
        # `network.outbound:` with nothing after it: listed, with no settings of its own.
        if node.tag == TAG + "null":
            return ControlConfig(mode=None, params=declared.default_params())
        parameters = declared.parameters()
        before = self.problems.count
        fields = self.mapping(node, path, ("mode", *parameters))
        mode = self.attempt(None, self.mode, fields["mode"][1], f"{path}.mode") if "mode" in fields else None
        given = {
            name: self.attempt(None, self.param, fields[name][1], f"{path}.{name}", spec.metadata["parse"])
            for name, spec in parameters.items()
            if name in fields
        }
        if self.problems.count > before:
            return None
        return ControlConfig(mode=mode, params=declared.make_params(given))

    def param(self, node: Node, path: str, parse: Any) -> object:
        """A parameter's typed value; its reader's ParamError is reported at the list item it names."""
        try:
            return parse(self.value(node, path))
        except ParamError as exc:
            at, where = node, path
            if exc.item is not None and isinstance(node, SequenceNode) and exc.item < len(node.value):
                at, where = node.value[exc.item], f"{path}[{exc.item}]"
            self.at(at, where, str(exc), cause=exc)
