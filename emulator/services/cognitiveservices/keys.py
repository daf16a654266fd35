"""Account keys: the `accountKeys` scenario section, and the listKeys and regenerateKey actions.

Keys are the secrets of this emulator: they are served only by listKeys/regenerateKey and dumped only by
`dump_state()`, never logged.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from typing import Any

from emulator.arm import ids
from emulator.arm.errors import ArmError, json_object, resource_not_found
from emulator.arm.plane import Arm
from emulator.arm.types import Params, Section
from emulator.kernel.http import Reply, Request

from .versions import NAMESPACE

ACCOUNT_TYPE = f"{NAMESPACE}/accounts"


def new_key() -> str:
    """A random account key (32 hex characters, the classic Cognitive Services key shape)."""
    return secrets.token_hex(16)


class KeyBook:
    """Each account's two keys, by case-insensitive id (the original spelling is kept for dumps)."""

    def __init__(self, arm: Arm) -> None:
        self._arm = arm
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[str, dict[str, str]]] = {}

    def section(self) -> Section:
        return Section("accountKeys", self.load, self.dump)

    def load(self, raw: Any) -> None:
        if raw is not None and not isinstance(raw, Mapping):
            raise ValueError("must map account ids to {'key1': ..., 'key2': ...}")
        with self._lock:
            self._keys.clear()
            for account_id, pair in dict(raw or {}).items():
                if not isinstance(pair, Mapping) or set(pair) != {"key1", "key2"}:
                    raise ValueError(f"[{account_id!r}] must be {{'key1': ..., 'key2': ...}}")
                self._keys[ids.key(account_id)] = (account_id, {"key1": str(pair["key1"]), "key2": str(pair["key2"])})
        for account in self._arm.store.dump_resources():
            if ids.same_type(str(account.get("type") or ids.type_from_id(account["id"])), ACCOUNT_TYPE):
                self.keys(str(account["id"]))

    def dump(self) -> dict[str, dict[str, str]]:
        with self._lock:
            return {original: dict(pair) for original, pair in self._keys.values()}

    def keys(self, account_id: str) -> dict[str, str]:
        """The account's keys, minted on first use (a new account gets two at creation)."""
        with self._lock:
            rid = ids.key(account_id)
            if rid not in self._keys:
                self._keys[rid] = (account_id, {"key1": new_key(), "key2": new_key()})
            return dict(self._keys[rid][1])

    def regenerate(self, account_id: str, which: str) -> dict[str, str]:
        self.keys(account_id)
        with self._lock:
            original, pair = self._keys[ids.key(account_id)]
            pair = {**pair, which: new_key()}
            self._keys[ids.key(account_id)] = (original, pair)
            return dict(pair)

    def drop(self, account_id: str) -> None:
        with self._lock:
            self._keys.pop(ids.key(account_id), None)

    # --- actions --------------------------------------------------------------------------------
    def _account(self, p: Params) -> dict[str, Any]:
        found = self._arm.store.get(p["id"])
        if found is None:
            raise resource_not_found(p["id"])
        return found

    def list_keys(self, arm: Arm, req: Request, p: Params) -> Reply:
        return Reply(200, self.keys(str(self._account(p)["id"])))

    def regenerate_key(self, arm: Arm, req: Request, p: Params) -> Reply:
        account = self._account(p)
        name = json_object(req).get("keyName")
        # The RP parses the enum case-insensitively; anything but Key1/Key2 is a 400.
        which = {"key1": "key1", "key2": "key2"}.get(name.lower()) if isinstance(name, str) else None
        if which is None:
            raise ArmError(
                400,
                "InvalidKeyName",
                f"The key name '{name}' is not valid. Allowed values: Key1, Key2.",
                target="keyName",
            )
        return Reply(200, self.regenerate(str(account["id"]), which))
