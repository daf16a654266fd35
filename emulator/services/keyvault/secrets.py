"""The secret routes: set (a new version), read, update, list (secrets and versions). Lists carry no values.

Reading a disabled version is 403 Forbidden, as Key Vault answers.
"""

from __future__ import annotations

import copy
from typing import Any

from emulator.kernel.http import Reply

from . import bundles, paging
from .call import Call, check_name
from .errors import KeyVaultError, secret_not_found
from .state import SECRETS_SECTION, Versions

SECTION = SECRETS_SECTION


def _record(call: Call, name: str) -> Versions:
    found = call.data.get(SECTION, call.vault, name)
    if found is None:
        raise secret_not_found(name)
    return found


def _sid(call: Call, name: str, version: str = "") -> str:
    return f"{call.uri}/secrets/{name}" + (f"/{version}" if version else "")


def _version(call: Call, name: str, version: str) -> dict[str, Any]:
    found = _record(call, name).find(version)
    if found is None:
        raise secret_not_found(name, version)
    return found


def set_secret(call: Call, name: str) -> Reply:
    """PUT /secrets/{name}: a new version (value, contentType, attributes, tags)."""
    check_name(name, "secret")
    body = call.body()
    existing = call.data.get(SECTION, call.vault, name)
    stored_name = existing.name if existing is not None else name
    sid = _sid(call, stored_name, bundles.new_version())
    bundle = bundles.secret_bundle(body, sid, call.unix_now, call.recovery)
    call.data.add(SECTION, call.vault, stored_name, bundle)
    return Reply(200, copy.deepcopy(bundle))


def get(call: Call, name: str, version: str) -> Reply:
    """GET /secrets/{name}/{version}: that version with its value (the newest for an empty version)."""
    bundle = _version(call, name, version)
    if bundle.get("attributes", {}).get("enabled") is False:
        raise KeyVaultError(403, "Forbidden", "Operation get is not allowed on a disabled secret.")
    return Reply(200, copy.deepcopy(bundle))


def update(call: Call, name: str, version: str) -> Reply:
    """PATCH /secrets/{name}/{version}: attributes, tags, content type; the answer carries no value."""
    body = call.body()
    bundle = _version(call, name, version)
    bundles.update(bundle, body, call.unix_now)
    return Reply(200, {k: copy.deepcopy(v) for k, v in bundle.items() if k != "value"})


def versions(call: Call, name: str) -> Reply:
    """GET /secrets/{name}/versions: every version's id and attributes, oldest first, never a value."""
    record = call.data.get(SECTION, call.vault, name)
    found = list(enumerate(record.versions)) if record is not None else []
    return paging.page(
        call.req,
        f"{call.base}/secrets/{name}/versions",
        found,
        lambda pair: f"{pair[0]:010d}",
        lambda pair: bundles.item(pair[1], str(pair[1]["id"])),
    )


def listing(call: Call) -> Reply:
    """GET /secrets: every secret by name, with its newest version's attributes and a versionless id."""
    return paging.page(
        call.req,
        f"{call.base}/secrets",
        call.data.all(SECTION, call.vault),
        lambda record: record.name.lower(),
        lambda record: bundles.item(record.versions[-1], _sid(call, record.name)),
    )
