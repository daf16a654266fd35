"""The key routes: create, rotate, read, update, list (keys and versions), and the rotation policy.

A rotation makes a new version of the same type, size and operations; when the key's rotation policy has an
`expiryTime`, the new version expires that long after now (docs/emulator.md "Key Vault").
"""

from __future__ import annotations

import copy
from typing import Any

from emulator.kernel.http import Reply

from . import bundles, durations, paging, policy
from .call import Call, check_name
from .errors import key_not_found
from .state import KEYS_SECTION, Versions

SECTION = KEYS_SECTION


def _record(call: Call, name: str) -> Versions:
    found = call.data.get(SECTION, call.vault, name)
    if found is None:
        raise key_not_found(name)
    return found


def _kid(call: Call, name: str, version: str = "") -> str:
    return f"{call.uri}/keys/{name}" + (f"/{version}" if version else "")


def create(call: Call, name: str) -> Reply:
    """POST /keys/{name}/create: the key's first version, or a new version of an existing key."""
    check_name(name, "key")
    body = call.body()
    existing = call.data.get(SECTION, call.vault, name)
    stored_name = existing.name if existing is not None else name
    bundle = bundles.key_bundle(body, _kid(call, stored_name, bundles.new_version()), call.unix_now, call.recovery)
    call.data.add(SECTION, call.vault, stored_name, bundle)
    return Reply(200, copy.deepcopy(bundle))


def rotate(call: Call, name: str) -> Reply:
    """POST /keys/{name}/rotate: a new version; its expiry follows the policy's expiryTime when there is one."""
    record = _record(call, name)
    expiry = policy.expiry_of(record.policy)
    expires = policy.unix(durations.add(call.now, expiry)) if expiry else None
    kid = _kid(call, record.name, bundles.new_version())
    bundle = bundles.rotated(record.versions[-1], kid, call.unix_now, call.recovery, expires)
    call.data.add(SECTION, call.vault, record.name, bundle)
    return Reply(200, copy.deepcopy(bundle))


def _version(call: Call, name: str, version: str) -> dict[str, Any]:
    found = _record(call, name).find(version)
    if found is None:
        raise key_not_found(name, version)
    return found


def get(call: Call, name: str, version: str) -> Reply:
    """GET /keys/{name}/{version}: that version, or the newest for an empty version."""
    return Reply(200, copy.deepcopy(_version(call, name, version)))


def update(call: Call, name: str, version: str) -> Reply:
    """PATCH /keys/{name}/{version}: attributes (enabled, exp, nbf), tags, key operations."""
    body = call.body()
    bundle = _version(call, name, version)
    bundles.update(bundle, body, call.unix_now)
    return Reply(200, copy.deepcopy(bundle))


def versions(call: Call, name: str) -> Reply:
    """GET /keys/{name}/versions: every version, oldest first (an unknown key has none)."""
    record = call.data.get(SECTION, call.vault, name)
    found = list(enumerate(record.versions)) if record is not None else []
    return paging.page(
        call.req,
        f"{call.base}/keys/{name}/versions",
        found,
        lambda pair: f"{pair[0]:010d}",
        lambda pair: bundles.item(pair[1], str(pair[1]["key"]["kid"])),
    )


def listing(call: Call) -> Reply:
    """GET /keys: every key by name, with its newest version's attributes and a versionless kid."""
    return paging.page(
        call.req,
        f"{call.base}/keys",
        call.data.all(SECTION, call.vault),
        lambda record: record.name.lower(),
        lambda record: bundles.item(record.versions[-1], _kid(call, record.name)),
    )


def get_policy(call: Call, name: str) -> Reply:
    """GET /keys/{name}/rotationpolicy: the policy set, or Key Vault's default (no id) when none was."""
    record = _record(call, name)
    return Reply(200, copy.deepcopy(record.policy) if record.policy is not None else policy.default())


def put_policy(call: Call, name: str) -> Reply:
    """PUT /keys/{name}/rotationpolicy: validated as Key Vault does (400 BadParameter), then stored whole."""
    record = _record(call, name)
    checked = policy.validated(call.body(), call.now)
    old = (record.policy or {}).get("attributes") or {}
    created = old.get("created", call.unix_now)
    record.policy = {
        "id": f"{_kid(call, record.name)}/rotationpolicy",
        "lifetimeActions": checked["lifetimeActions"],
        "attributes": {**checked["attributes"], "created": created, "updated": call.unix_now},
    }
    return Reply(200, copy.deepcopy(record.policy))
