"""Whether a set of Azure RBAC permissions grants an action: ARM's matching of `actions`/`notActions` (and their
data twins), `*` as a wildcard and case ignored, as the permissions API returns them (one entry per role)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from warden.permissions import is_data_action


@dataclass(frozen=True)
class PermissionSet:
    """One entry of ARM's permissions API: what one role grants, less what it excludes."""

    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    data_actions: tuple[str, ...] = ()
    not_data_actions: tuple[str, ...] = ()


@cache
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(part) for part in text.split("*")) + "$", re.IGNORECASE)


def _any(patterns: Iterable[str], action: str) -> bool:
    return any(_pattern(p).match(action) for p in patterns)


def grants(sets: Sequence[PermissionSet], action: str) -> bool:
    """Whether any one entry allows `action` and does not exclude it: an exclusion applies within its own role
    only, so another role can still grant what one excludes."""
    data = is_data_action(action)
    for entry in sets:
        allowed, excluded = (entry.data_actions, entry.not_data_actions) if data else (entry.actions, entry.not_actions)
        if _any(allowed, action) and not _any(excluded, action):
            return True
    return False


def missing_permissions(sets: Sequence[PermissionSet], needed: Iterable[str]) -> list[str]:
    """The needed permissions no entry grants, sorted."""
    return sorted(p for p in needed if not grants(sets, p))
