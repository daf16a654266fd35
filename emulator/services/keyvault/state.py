"""The data plane's state: every vault's keys (versions, oldest first, and rotation policy) and secrets, in
their REST form, with the `vaultKeys` and `vaultSecrets` scenario sections they load from and dump to.

Vault, key and secret names compare case-insensitively, as Key Vault's do; the spelling first seen is kept.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

KEYS_SECTION = "vaultKeys"
SECRETS_SECTION = "vaultSecrets"
_ATTRIBUTE_TIMES = ("created", "updated", "exp", "nbf")


@dataclass
class Versions:
    """One key or secret: its versions in creation order (the last is the current one) and, for a key, its
    rotation policy as stored (None: nobody set one)."""

    name: str
    versions: list[dict[str, Any]] = field(default_factory=list)
    policy: dict[str, Any] | None = None

    def find(self, version: str) -> dict[str, Any] | None:
        """The version of that id, or the current one for ""."""
        if not version:
            return self.versions[-1]
        return next((b for b in self.versions if version_of(b) == version.lower()), None)


def object_url(bundle: Mapping[str, Any]) -> str:
    """The id of a key version (`key.kid`) or of a secret version (`id`)."""
    key = bundle.get("key")
    return str(key.get("kid", "")) if isinstance(key, Mapping) else str(bundle.get("id", ""))


def version_of(bundle: Mapping[str, Any]) -> str:
    return object_url(bundle).rstrip("/").rsplit("/", 1)[-1].lower()


class VaultData:
    """Keys and secrets by vault; every access holds `lock` (one lock: the plane is small and quick)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._names: dict[str, str] = {}  # vault, lower case -> as first written
        self._objects: dict[str, dict[str, dict[str, Versions]]] = {KEYS_SECTION: {}, SECRETS_SECTION: {}}

    def _vault(self, section: str, vault: str) -> dict[str, Versions]:
        self._names.setdefault(vault.lower(), vault)
        return self._objects[section].setdefault(vault.lower(), {})

    def get(self, section: str, vault: str, name: str) -> Versions | None:
        return self._objects[section].get(vault.lower(), {}).get(name.lower())

    def all(self, section: str, vault: str) -> list[Versions]:
        """Every key (or secret) of the vault, ordered by name."""
        found = self._objects[section].get(vault.lower(), {})
        return [found[k] for k in sorted(found)]

    def add(self, section: str, vault: str, name: str, bundle: dict[str, Any]) -> Versions:
        """Append a new version (creating the key or secret on its first one)."""
        objects = self._vault(section, vault)
        record = objects.setdefault(name.lower(), Versions(name))
        record.versions.append(bundle)
        return record

    # --- scenario -------------------------------------------------------------------------------
    def load(self, scenario: Mapping[str, Any]) -> None:
        loaded = VaultData()
        for vault, name, raw in _entries(scenario, KEYS_SECTION):
            where = f"{KEYS_SECTION}.{vault}.{name}"
            if not isinstance(raw, Mapping) or set(raw) - {"versions", "rotationPolicy"}:
                raise ValueError(f'{where}: expected {{"versions": [KeyBundle, ...], "rotationPolicy": {{...}}}}')
            record = _load_versions(loaded, KEYS_SECTION, (vault, name), raw.get("versions"), where)
            policy = raw.get("rotationPolicy")
            if policy is not None and not _is_policy(policy):
                raise ValueError(f"{where}.rotationPolicy: expected a policy with a 'lifetimeActions' list")
            record.policy = copy.deepcopy(dict(policy)) if policy is not None else None
        for vault, name, raw in _entries(scenario, SECRETS_SECTION):
            _load_versions(loaded, SECRETS_SECTION, (vault, name), raw, f"{SECRETS_SECTION}.{vault}.{name}")
        with self.lock:
            self._names, self._objects = loaded._names, loaded._objects

    def dump(self) -> dict[str, Any]:
        with self.lock:
            keys: dict[str, Any] = {}
            for vault, objects in self._objects[KEYS_SECTION].items():
                keys[self._names[vault]] = {r.name: _dumped_key(r) for r in objects.values()}
            secrets = {
                self._names[vault]: {r.name: copy.deepcopy(r.versions) for r in objects.values()}
                for vault, objects in self._objects[SECRETS_SECTION].items()
            }
        return {KEYS_SECTION: keys, SECRETS_SECTION: secrets}


def _is_policy(raw: Any) -> bool:
    return isinstance(raw, Mapping) and isinstance(raw.get("lifetimeActions"), list)


def _dumped_key(record: Versions) -> dict[str, Any]:
    out: dict[str, Any] = {"versions": copy.deepcopy(record.versions)}
    if record.policy is not None:
        out["rotationPolicy"] = copy.deepcopy(record.policy)
    return out


def _entries(scenario: Mapping[str, Any], section: str) -> list[tuple[str, str, Any]]:
    raw = scenario.get(section)
    if raw is None:
        return []
    if not isinstance(raw, Mapping) or not all(isinstance(v, Mapping) for v in raw.values()):
        raise ValueError(f'{section}: expected {{"<vault name>": {{"<name>": ...}}}}')
    return [(str(vault), str(name), value) for vault, objects in raw.items() for name, value in objects.items()]


def _load_versions(data: VaultData, section: str, names: tuple[str, str], raw: Any, where: str) -> Versions:
    vault, name = names
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{where}: expected a non-empty list of versions (oldest first)")
    if data.get(section, vault, name) is not None:
        raise ValueError(f"{where}: named twice (names compare case-insensitively)")
    kind = "keys" if section == KEYS_SECTION else "secrets"
    seen: set[str] = set()
    last_created = None
    for index, bundle in enumerate(raw):
        at = f"{where}[{index}]"
        _check_bundle(bundle, kind, name, at)
        version = version_of(bundle)
        if version in seen:
            raise ValueError(f"{at}: version {version} appears twice")
        seen.add(version)
        created = bundle.get("attributes", {}).get("created")
        if created is not None and last_created is not None and created < last_created:
            raise ValueError(f"{at}: created before the version above it (versions are listed oldest first)")
        last_created = created if created is not None else last_created
        record = data.add(section, vault, name, copy.deepcopy(dict(bundle)))
    return record


def _check_bundle(bundle: Any, kind: str, name: str, at: str) -> None:
    if not isinstance(bundle, Mapping):
        raise ValueError(f"{at}: expected an object")
    if kind == "keys" and not isinstance(bundle.get("key"), Mapping):
        raise ValueError(f"{at}: a KeyBundle needs a 'key' object with its 'kid'")
    if kind == "secrets" and not isinstance(bundle.get("value"), str):
        raise ValueError(f"{at}: a SecretBundle needs a string 'value'")
    url = object_url(bundle)
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if len(parts) != 3 or parts[0].lower() != kind or parts[1].lower() != name.lower():
        shown = "key.kid" if kind == "keys" else "id"
        raise ValueError(f"{at}: {shown} must be https://<vault>.vault.azure.net/{kind}/{name}/<version>, got {url!r}")
    attributes = bundle.get("attributes", {})
    if not isinstance(attributes, Mapping):
        raise ValueError(f"{at}.attributes: expected an object")
    for time_name in _ATTRIBUTE_TIMES:
        value = attributes.get(time_name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ValueError(f"{at}.attributes.{time_name}: expected unix seconds (an integer), got {value!r}")
