"""ARM resources by case-insensitive id, loaded from and dumped to a scenario's `resources` section.

Every read hands out a deep copy and every write happens under one lock, so the HTTP threads and the
test thread never see a half-applied change.
"""

from __future__ import annotations

import bisect
import copy
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from . import ids

Resource = dict[str, Any]


def resource_type(resource: Mapping[str, Any]) -> str:
    """The declared `type`, or the one the id implies (upstream RAI policy examples omit `type`)."""
    declared = resource.get("type")
    return str(declared) if declared else ids.type_from_id(str(resource["id"]))


class Store:
    """Resources keyed by case-insensitive id, in insertion order, with the keys also kept sorted (so a list
    page or a Resource Graph scan reaches its first item by bisection instead of sorting every key).

    A stored resource is never changed in place: every write stores a new object. `in_key_order` relies on it.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._resources: dict[str, Resource] = {}
        self._order: list[str] = []  # the keys of _resources, sorted
        # Test hook: seconds every write sleeps before taking the lock and again between its read and its
        # store, so a race test can widen both windows (a check made outside the lock, a lock-free write).
        self.write_delay = 0.0

    def _pause(self) -> None:
        if self.write_delay:
            time.sleep(self.write_delay)

    # --- scenario load / dump -------------------------------------------------------------------
    def load(self, resources: Any) -> None:
        """Replace the state with a scenario's `resources` list."""
        if not isinstance(resources, list):
            raise ValueError("scenario 'resources' must be a list")
        with self._lock:
            self._resources.clear()
            try:
                for index, raw in enumerate(resources):
                    try:
                        self._add_loaded(raw)
                    except ValueError as err:
                        raise ValueError(f"resources[{index}]: {err}") from None
            finally:
                self._order = sorted(self._resources)

    def _add_loaded(self, raw: Any) -> None:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str):
            raise ValueError(f"every scenario resource needs a string 'id': {raw!r:.200}")
        implied = ids.type_from_id(raw["id"])
        if raw.get("type") and not ids.same_type(str(raw["type"]), implied):
            raise ValueError(f"resource {raw['id']!r} has type {raw['type']!r} but its id implies {implied!r}")
        rid = ids.key(raw["id"])
        if rid in self._resources:
            raise ValueError(f"duplicate resource id in scenario: {raw['id']!r}")
        self._resources[rid] = copy.deepcopy(dict(raw))

    def dump_resources(self) -> list[Resource]:
        with self._lock:
            return copy.deepcopy(list(self._resources.values()))

    # --- resources ------------------------------------------------------------------------------
    def get(self, resource_id: str) -> Resource | None:
        with self._lock:
            found = self._resources.get(ids.key(resource_id))
            return copy.deepcopy(found) if found is not None else None

    def of_type(self, type_: str, under: str, *, exact_scope: bool = False) -> list[Resource]:
        """Resources of `type_` whose id lies under `under` (a subscription, group or resource id); with
        `exact_scope`, only those whose scope is `under` itself (extension resources listed at a scope)."""
        prefix = ids.key(under) + "/"
        with self._lock:
            return [
                copy.deepcopy(res)
                for rid, res in self._resources.items()
                if rid.startswith(prefix)
                and ids.same_type(resource_type(res), type_)
                and (not exact_scope or ids.key(ids.scope_of(rid)) == ids.key(under))
            ]

    def page_of_type(
        self, type_: str, under: str, after: str | None, limit: int, *, exact_scope: bool = False
    ) -> list[Resource]:
        """What `of_type` returns, in key order, only keys above `after` (a list's skip token), at most `limit`:
        only the page is copied, and the scan starts by bisection, so listing N resources is not O(N^2)."""
        prefix = ids.key(under) + "/"
        found: list[Resource] = []
        with self._lock:
            start = bisect.bisect_left(self._order, prefix)
            if after is not None and after >= prefix:
                start = bisect.bisect_right(self._order, after)
            for index in range(start, len(self._order)):  # an index, not a slice: no copy of the tail
                rid = self._order[index]
                if not rid.startswith(prefix) or len(found) >= limit:
                    break
                res = self._resources[rid]
                if ids.same_type(resource_type(res), type_) and (
                    not exact_scope or ids.key(ids.scope_of(rid)) == ids.key(under)
                ):
                    found.append(copy.deepcopy(res))
        return found

    def in_key_order(self) -> list[Resource]:
        """Every stored resource, in key order, NOT copied: read-only for the caller (a write stores a new
        object, so the list stays a consistent view of this instant while later writes land)."""
        with self._lock:
            return [self._resources[rid] for rid in self._order]

    def ids_under(self, prefix_id: str) -> list[str]:
        """Every stored id equal to or under `prefix_id` (a resource group, a resource and its children)."""
        prefix = ids.key(prefix_id)
        with self._lock:
            return [str(r["id"]) for rid, r in self._resources.items() if rid == prefix or rid.startswith(prefix + "/")]

    def delete(self, resource_id: str) -> Resource | None:
        """Remove a resource and everything nested under it; returns the removed resource."""
        key = ids.key(resource_id)
        with self._lock:
            gone = self._resources.pop(key, None)
            # Nested keys (`key/...`) sort together, between `key/` and `key0` ('0' follows '/').
            low, high = bisect.bisect_left(self._order, key + "/"), bisect.bisect_left(self._order, key + "0")
            for rid in self._order[low:high]:
                del self._resources[rid]
            del self._order[low:high]
            if gone is not None:
                del self._order[bisect.bisect_left(self._order, key)]
            return gone

    def put(self, resource: Mapping[str, Any]) -> bool:
        """Create or replace (keeping its position); True when created."""
        rid = ids.key(str(resource["id"]))
        with self._lock:
            created = rid not in self._resources
            self._resources[rid] = copy.deepcopy(dict(resource))
            if created:
                bisect.insort(self._order, rid)
            return created

    def mutate(self, resource_id: str, change: Callable[[Resource], Resource]) -> Resource | None:
        """Apply `change` to a copy of the stored resource and store the result atomically; None if absent.

        `change` runs under the lock, so a precondition it checks (If-Match) holds when the result is stored;
        an exception it raises leaves the resource unchanged."""
        rid = ids.key(resource_id)
        self._pause()
        with self._lock:
            current = self._resources.get(rid)
            if current is None:
                return None
            updated = change(copy.deepcopy(current))
            self._pause()
            self._resources[rid] = updated
            return copy.deepcopy(updated)

    def replace(self, resource_id: str, build: Callable[[Resource | None], Resource]) -> tuple[Resource, bool]:
        """Create or replace atomically: `build` gets a copy of the stored resource (None if absent) under
        the lock and returns the new one. Returns (stored copy, created)."""
        self._pause()
        with self._lock:
            new = build(self.get(resource_id))
            self._pause()
            created = self.put(new)
            return copy.deepcopy(new), created
