"""Which scope contains which, management groups included: the tenant root `/` contains everything, a
subscription, group or resource contains the ids under it, and a management group contains the subscriptions
(and groups) the scenario's `Microsoft.Management/managementGroups` resources place under it.

A management group the scenario does not hold as a resource is taken to contain every subscription: the
emulator's one tenant as one flat group, so an assignment seeded at a group alone is inherited everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator.arm import ids

MANAGEMENT_GROUPS_TYPE = "Microsoft.Management/managementGroups"
_GROUP_PREFIX = ["providers", "microsoft.management", "managementgroups"]


def _segments(scope: str) -> list[str]:
    return [s.lower() for s in ids.segments(scope)]


def group_name(scope: str) -> str | None:
    """The (lower-case) name of the management group `scope` is, or None for any other scope."""
    segs = _segments(scope)
    return segs[3] if len(segs) == 4 and segs[:3] == _GROUP_PREFIX else None


def _prefix(outer: str, inner: str) -> bool:
    mine, theirs = _segments(outer), _segments(inner)
    return theirs[: len(mine)] == mine


@dataclass(frozen=True)
class Tenant:
    """The management group tree as the scenario declares it: each declared group's parent and the groups
    that hold each subscription directly (names and subscription ids lower-case)."""

    declared: frozenset[str] = frozenset()
    parents: Mapping[str, str] = field(default_factory=dict)
    holders: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def from_groups(cls, groups: Iterable[Mapping[str, Any]]) -> Tenant:
        """From management groups as their GET with `$expand=children` shows them: only
        `properties.details.parent.id` and the ids in `properties.children` (nested `children` too) are read;
        a child id under `/subscriptions/` is a subscription, one of a management group a group."""
        declared: set[str] = set()
        parents: dict[str, str] = {}
        holders: dict[str, set[str]] = {}
        for group in groups:
            name = group_name(str(group.get("id", "")))
            if name is None:
                continue
            declared.add(name)
            props = group.get("properties")
            props = props if isinstance(props, Mapping) else {}
            details = props.get("details")
            parent = details.get("parent") if isinstance(details, Mapping) else None
            above = group_name(str(parent.get("id", ""))) if isinstance(parent, Mapping) else None
            if above is not None:
                parents.setdefault(name, above)
            _walk_children(name, props.get("children"), parents, holders)
        return cls(frozenset(declared), parents, {k: frozenset(v) for k, v in holders.items()})

    def _chain(self, groups: Iterable[str]) -> set[str]:
        """The groups given and every group above them (a cycle in a hand-written scenario ends the walk)."""
        seen: set[str] = set()
        todo = list(groups)
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                if name in self.parents:
                    todo.append(self.parents[name])
        return seen

    def contains(self, outer: str, inner: str) -> bool:
        """`outer` is `inner` itself or a scope above it (compared case-insensitively, as ARM compares ids)."""
        if not _segments(outer):
            return True  # the tenant root
        group = group_name(outer)
        if group is None:
            return _prefix(outer, inner)
        inner_group = group_name(inner)
        if inner_group is not None:
            return group in self._chain([inner_group])
        sub = ids.subscription(inner)
        if sub is None:
            return False
        if group not in self.declared:
            return True
        return group in self._chain(self.holders.get(sub.lower(), frozenset()))


def _walk_children(name: str, children: Any, parents: dict[str, str], holders: dict[str, set[str]]) -> None:
    if not isinstance(children, list):
        return
    for child in children:
        if not isinstance(child, Mapping):
            continue
        child_id = str(child.get("id", ""))
        below = group_name(child_id)
        if below is not None:
            parents.setdefault(below, name)
            _walk_children(below, child.get("children"), parents, holders)
        elif (sub := ids.subscription(child_id)) is not None and len(ids.segments(child_id)) == 2:
            holders.setdefault(sub.lower(), set()).add(name)
