"""The emulator's state: ARM resources, account keys and options, loaded from and dumped to a scenario.

Every read hands out a deep copy and every write happens under one lock, so the HTTP threads and the
test thread never see a half-applied change.
"""

from __future__ import annotations

import copy
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import ids

log = logging.getLogger(__name__)

Resource = dict[str, Any]
KNOWN_KEYS = frozenset({"resources", "accountKeys", "options", "faults"})
LRO_MODES = ("sync", "async")


@dataclass
class Options:
    """Scenario `options`: how long-running operations answer, and the page size of list calls."""

    lro: str = "sync"
    async_polls: int = 1
    page_size: int = 100

    @classmethod
    def from_json(cls, raw: Mapping[str, Any] | None) -> Options:
        raw = dict(raw or {})
        unknown = set(raw) - {"lro", "asyncPolls", "pageSize"}
        if unknown:
            raise ValueError(f"unknown scenario options: {sorted(unknown)}")
        opts = cls(
            lro=str(raw.get("lro", "sync")),
            async_polls=int(raw.get("asyncPolls", 1)),
            page_size=int(raw.get("pageSize", 100)),
        )
        opts.validate()
        return opts

    def validate(self) -> None:
        if self.lro not in LRO_MODES:
            raise ValueError(f"options.lro must be one of {LRO_MODES}, not {self.lro!r}")
        if self.async_polls < 0:
            raise ValueError("options.asyncPolls must be >= 0")
        if self.page_size < 1:
            raise ValueError("options.pageSize must be >= 1")

    def to_json(self) -> dict[str, Any]:
        return {"lro": self.lro, "asyncPolls": self.async_polls, "pageSize": self.page_size}


def new_key() -> str:
    """A random account key (32 hex characters, the classic Cognitive Services key shape)."""
    return secrets.token_hex(16)


def resource_type(resource: Mapping[str, Any]) -> str:
    """The declared `type`, or the one the id implies (upstream RAI policy examples omit `type`)."""
    declared = resource.get("type")
    return str(declared) if declared else ids.type_from_id(str(resource["id"]))


class Store:
    """Resources keyed by case-insensitive id, in insertion order, plus each account's two keys."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._resources: dict[str, Resource] = {}
        self._keys: dict[str, tuple[str, dict[str, str]]] = {}
        self.extras: dict[str, Any] = {}
        # Test hook: seconds every write sleeps before taking the lock and again between its read and its
        # store, so a race test can widen both windows (a check made outside the lock, a lock-free write).
        self.write_delay = 0.0

    def _pause(self) -> None:
        if self.write_delay:
            time.sleep(self.write_delay)

    # --- scenario load / dump -------------------------------------------------------------------
    def load(self, scenario: Mapping[str, Any]) -> None:
        """Replace the state with a scenario's resources and keys (options and faults are the caller's)."""
        resources = scenario.get("resources", [])
        if not isinstance(resources, list):
            raise ValueError("scenario 'resources' must be a list")
        with self._lock:
            self._resources.clear()
            self._keys.clear()
            for raw in resources:
                self._add_loaded(raw)
            for account_id, pair in dict(scenario.get("accountKeys") or {}).items():
                if not isinstance(pair, Mapping) or set(pair) != {"key1", "key2"}:
                    raise ValueError(f"accountKeys[{account_id!r}] must be {{'key1': ..., 'key2': ...}}")
                self._keys[ids.key(account_id)] = (
                    account_id,
                    {"key1": str(pair["key1"]), "key2": str(pair["key2"])},
                )
            for rid, res in self._resources.items():
                if ids.same_type(resource_type(res), ids.ACCOUNT_TYPE) and rid not in self._keys:
                    self._keys[rid] = (str(res["id"]), {"key1": new_key(), "key2": new_key()})
            # Keys the emulator does not model (e.g. data-plane objects) survive a round trip.
            self.extras = {k: copy.deepcopy(v) for k, v in scenario.items() if k not in KNOWN_KEYS}
            if self.extras:
                log.debug("scenario keys kept verbatim but not served: %s", sorted(self.extras))

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

    def dump_keys(self) -> dict[str, dict[str, str]]:
        with self._lock:
            return {original: dict(pair) for original, pair in self._keys.values()}

    # --- resources ------------------------------------------------------------------------------
    def get(self, resource_id: str) -> Resource | None:
        with self._lock:
            found = self._resources.get(ids.key(resource_id))
            return copy.deepcopy(found) if found is not None else None

    def list(self, type_: str, under: str) -> list[Resource]:
        """Resources of `type_` whose id lies under `under` (a subscription, group or account id)."""
        prefix = ids.key(under) + "/"
        with self._lock:
            return [
                copy.deepcopy(res)
                for rid, res in self._resources.items()
                if rid.startswith(prefix) and ids.same_type(resource_type(res), type_)
            ]

    def put(self, resource: Mapping[str, Any]) -> bool:
        """Create or replace (keeping its position); True when created. New accounts get keys."""
        rid = ids.key(str(resource["id"]))
        with self._lock:
            created = rid not in self._resources
            self._resources[rid] = copy.deepcopy(dict(resource))
            if ids.same_type(resource_type(resource), ids.ACCOUNT_TYPE) and rid not in self._keys:
                self._keys[rid] = (str(resource["id"]), {"key1": new_key(), "key2": new_key()})
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

    # --- keys -----------------------------------------------------------------------------------
    def keys(self, account_id: str) -> dict[str, str]:
        with self._lock:
            rid = ids.key(account_id)
            if rid not in self._keys:
                self._keys[rid] = (account_id, {"key1": new_key(), "key2": new_key()})
            return dict(self._keys[rid][1])

    def regenerate(self, account_id: str, which: str) -> dict[str, str]:
        """Replace key1 or key2 with a fresh random value; returns both."""
        with self._lock:
            self.keys(account_id)
            original, pair = self._keys[ids.key(account_id)]
            pair = {**pair, which: new_key()}
            self._keys[ids.key(account_id)] = (original, pair)
            return dict(pair)
