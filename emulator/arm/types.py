"""How a resource provider plugs into the ARM plane: its resource types, extra routes and scenario sections.

A provider package (`emulator/services/<name>/`) builds a `Provider` from these declarations; the plane
derives routing, api-version checks, validation, merge, LROs and listing from them. Nothing here names a
provider, so adding one never touches this package.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from emulator.kernel.http import Reply, Request

from .swagger import Swagger

if TYPE_CHECKING:
    from .plane import Arm

Params = dict[str, str]
Resource = dict[str, Any]
Handler = Callable[["Arm", Request, Params], Reply]
ALL_METHODS = frozenset({"GET", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Hooks:
    """Provider rules around the generic write path (all optional).

    - `check(arm, resource_id, existing, body)`: refuse a write before it is accepted (raise ArmError).
    - `created(arm, resource)`: fill what the RP adds to a new resource (an endpoint, keys); returns it.
    - `deleted(arm, resource)`: what deleting leaves behind (a soft-deleted record, dropped keys).
    """

    check: Callable[[Arm, str, Resource | None, Mapping[str, Any]], None] | None = None
    created: Callable[[Arm, Resource], Resource] | None = None
    deleted: Callable[[Arm, Resource], None] | None = None


@dataclass(frozen=True)
class ResourceType:
    """One ARM resource type, e.g. `Microsoft.Example/widgets/parts` (a child type).

    `definition` names the swagger definition of its body: requests are validated against it, pruned of
    undeclared and readOnly properties, and enum values take its spelling. `long_running` lists the
    methods ARM runs as long-running operations; `actions` are `POST {id}/{name}` handlers by lower-case
    name. A top-level type lives in resource groups; a child type under its parent; an extension type
    (`extension=True`) under any resource, group or subscription."""

    type: str
    api_versions: tuple[str, ...]
    swagger: Callable[[], Swagger] | None = None
    definition: str | None = None
    methods: frozenset[str] = ALL_METHODS
    long_running: frozenset[str] = frozenset()
    requires_location: bool = False
    create_only: tuple[str, ...] = ("location", "kind")
    actions: Mapping[str, Handler] = field(default_factory=dict)
    hooks: Hooks = field(default_factory=Hooks)
    extension: bool = False
    # The provisioningState a create shows while it runs, where the RP's own examples show one other than
    # `Creating` (a deployment's 201 says `Accepted`); None: from the type's enum.
    creating_state: str | None = None

    @property
    def namespace(self) -> str:
        return self.type.split("/")[0]

    @property
    def path(self) -> tuple[str, ...]:
        """The type segments after the namespace, lower case (`("accounts", "deployments")`)."""
        return tuple(s.lower() for s in self.type.split("/")[1:])

    @property
    def nested(self) -> bool:
        """A child type (a deployment): it needs its parent to exist."""
        return len(self.path) > 1 and not self.extension

    def schema(self) -> Swagger | None:
        return self.swagger() if self.swagger is not None and self.definition else None

    @cached_property
    def read_only(self) -> frozenset[str]:
        """The readOnly names of its `properties`, from the swagger (worked out once, not per write)."""
        schema = self.schema()
        return schema.read_only(self.definition or "") if schema is not None else frozenset({"provisioningState"})

    @cached_property
    def provisioning_states(self) -> tuple[str, ...]:
        """The values its swagger allows for `properties.provisioningState` (empty if it declares none)."""
        schema = self.schema()
        return schema.enum(self.definition or "", "properties", "provisioningState") if schema is not None else ()


@dataclass(frozen=True)
class Route:
    """A route the generic resource handling does not cover (a provider-wide list, a location-scoped
    resource). `template` is a path of literal segments (matched case-insensitively) and `{name}` captures."""

    template: str
    methods: Mapping[str, Handler]
    api_versions: tuple[str, ...]

    @cached_property
    def pattern(self) -> tuple[str, ...]:
        return tuple(s if s.startswith("{") else s.lower() for s in self.template.strip("/").split("/"))


@dataclass(frozen=True)
class Section:
    """A top-level scenario key a provider owns (its own state beside the resources, e.g. account keys)."""

    name: str
    load: Callable[[Any], None]
    dump: Callable[[], Any]


@dataclass(frozen=True)
class Provider:
    """A resource provider as the plane sees it; `locations` are where its types are offered."""

    namespace: str
    types: tuple[ResourceType, ...]
    routes: tuple[Route, ...] = ()
    sections: tuple[Section, ...] = ()
    locations: tuple[str, ...] = ()

    def api_versions(self) -> tuple[str, ...]:
        """Every api-version any of its types accepts (for its operation-status routes)."""
        return tuple(sorted({v for t in self.types for v in t.api_versions}, reverse=True))


def match(pattern: tuple[str, ...], segs: list[str]) -> Params | None:
    """Captures of `segs` against a route pattern, or None."""
    if len(pattern) != len(segs):
        return None
    params: Params = {}
    for want, got in zip(pattern, segs, strict=True):
        if want.startswith("{"):
            params[want[1:-1]] = got
        elif want != got.lower():
            return None
    return params
