"""Accounts: the resource type, what the RP adds on create, and soft delete.

Deleting an account soft-deletes it, as Azure does: it leaves the account list, its keys go, and it is
listed under `deletedAccounts` until purged (or until `scheduledPurgeDate`, 48 hours by the clock).
Creating an account under a soft-deleted name needs `properties.restore: true` (409 otherwise).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from emulator.arm import ids, paging
from emulator.arm.errors import ArmError
from emulator.arm.plane import Arm
from emulator.arm.types import Hooks, Params, Resource, ResourceType, Route, Section
from emulator.kernel.clock import iso, parse_instant
from emulator.kernel.http import Reply, Request

from .keys import ACCOUNT_TYPE, KeyBook
from .versions import API_VERSIONS, NAMESPACE, schema

RETENTION = timedelta(hours=48)
_DELETED = (
    f"subscriptions/{{sub}}/providers/{NAMESPACE}/locations/{{loc}}/resourcegroups/{{rg}}/deletedaccounts/{{name}}"
)


class DeletedAccounts:
    """Soft-deleted accounts by (subscription, location, group, name), with the `deletedAccounts` routes."""

    def __init__(self, arm: Arm, keys: KeyBook) -> None:
        self._arm = arm
        self._keys = keys
        self._lock = threading.Lock()
        self._gone: dict[str, Resource] = {}

    def section(self) -> Section:
        return Section("deletedAccounts", self.load, self.dump)

    def load(self, raw: Any) -> None:
        if raw is not None and not isinstance(raw, list):
            raise ValueError("must be a list of soft-deleted accounts")
        gone: dict[str, Resource] = {}
        for index, record in enumerate(raw or []):
            # Checked here, so a malformed record is a load error naming it, not a 500 on a later request.
            if not isinstance(record, Mapping) or not isinstance(record.get("id"), str):
                raise ValueError(f"[{index}] needs a string 'id'")
            try:
                _purge_date(record)
            except ValueError as err:
                raise ValueError(f"[{index}] properties.scheduledPurgeDate: {err}") from None
            gone[ids.key(record["id"])] = copy.deepcopy(dict(record))
        with self._lock:
            self._gone = gone

    def dump(self) -> list[Resource]:
        self._purge_due()
        with self._lock:
            return copy.deepcopy(list(self._gone.values()))

    def remember(self, arm: Arm, account: Resource) -> None:
        """The `deleted` hook: keep the account as a soft-deleted record and drop its keys."""
        sub, rg = ids.subscription(account["id"]) or "", ids.resource_group(account["id"]) or ""
        loc = ids.location_slug(account.get("location"))
        record = copy.deepcopy(account)
        record["id"] = (
            f"/subscriptions/{sub}/providers/{NAMESPACE}/locations/{loc}/resourceGroups/{rg}/deletedAccounts/{account['name']}"
        )
        now = arm.world.clock.now()
        props = record.setdefault("properties", {})
        props.update(deletionDate=iso(now), scheduledPurgeDate=iso(now + RETENTION), provisioningState="Succeeded")
        with self._lock:
            self._gone[ids.key(record["id"])] = record
        self._keys.drop(str(account["id"]))

    def check_create(self, arm: Arm, resource_id: str, existing: Resource | None, body: Mapping[str, Any]) -> None:
        """The `check` hook: a name held by a soft-deleted account can only be reused to restore it."""
        if existing is not None:
            return
        restore = isinstance(body.get("properties"), Mapping) and body["properties"].get("restore") is True
        wanted = _holder(resource_id)
        self._purge_due()
        with self._lock:
            # Held per subscription, group and name (the record's location is not part of the name), so
            # the same name in another group or subscription is free.
            held = [k for k, r in self._gone.items() if _holder(str(r["id"])) == wanted]
            if held and restore:
                for key in held:
                    del self._gone[key]
                return
            shown = str(self._gone[held[0]]["id"]) if held else ""
        if held:
            raise ArmError(
                409,
                "FlagMustBeSetForRestore",
                f"An existing resource with ID '{shown}' has been soft-deleted. To restore the resource, you "
                "must specify 'restore' to be 'true' in the property. If you don't want to restore existing "
                "resource, please purge it first.",
            )

    def _purge_due(self) -> None:
        now = self._arm.world.clock.now()
        with self._lock:
            for key in [k for k, r in self._gone.items() if (when := _purge_date(r)) is not None and when <= now]:
                del self._gone[key]

    def routes(self) -> tuple[Route, ...]:
        return (
            Route(f"subscriptions/{{sub}}/providers/{NAMESPACE}/deletedaccounts", {"GET": self.list}, API_VERSIONS),
            Route(_DELETED, {"GET": self.get, "DELETE": self.purge}, API_VERSIONS),
        )

    def list(self, arm: Arm, req: Request, p: Params) -> Reply:
        """One page of the subscription's soft-deleted accounts: filtered by the subscription and the token
        first, and only the page copied (copying every record for every page made listing O(N^2))."""
        prefix = f"/subscriptions/{p['sub']}/".lower()
        after, size = paging.token_after(req), arm.options.page_size
        self._purge_due()
        with self._lock:
            mine = ((key, record) for key, record in self._gone.items() if key.startswith(prefix))
            chunk = copy.deepcopy(paging.first_after(mine, after, size + 1))
        return paging.reply(req, arm.world.endpoint, size, chunk)

    def _key(self, p: Params) -> str:
        return ids.key(
            f"/subscriptions/{p['sub']}/providers/{NAMESPACE}/locations/{p['loc']}/resourceGroups/{p['rg']}/deletedAccounts/{p['name']}"
        )

    def get(self, arm: Arm, req: Request, p: Params) -> Reply:
        self._purge_due()
        with self._lock:
            found = copy.deepcopy(self._gone.get(self._key(p)))
        if found is None:
            raise ArmError(404, "ResourceNotFound", f"The deleted account '{p['name']}' was not found.")
        return Reply(200, found)

    def purge(self, arm: Arm, req: Request, p: Params) -> Reply:
        with self._lock:
            gone = self._gone.pop(self._key(p), None)
        return Reply(200 if gone is not None else 204)


def _purge_date(record: Mapping[str, Any]) -> datetime | None:
    """When a soft-deleted record goes (None: never); parsed, as scenario instants need not carry the
    seven fractional digits the emulator writes."""
    props = record.get("properties")
    when = props.get("scheduledPurgeDate") if isinstance(props, Mapping) else None
    return parse_instant(str(when)) if when is not None else None


def _holder(resource_id: str) -> tuple[str, str, str]:
    """What a soft-deleted record holds: its (subscription, resource group, name), lower case; the same
    for an account id and a deletedAccounts id."""
    return (
        (ids.subscription(resource_id) or "").lower(),
        (ids.resource_group(resource_id) or "").lower(),
        ids.name_from_id(resource_id).lower(),
    )


def endpoint_of(subdomain: str, kind: str) -> str:
    """The data-plane endpoint ARM gives an account: `openai.azure.com` for kind OpenAI, the Cognitive Services
    domain for the others (AIServices serves the Azure OpenAI routes there too)."""
    domain = "openai.azure.com" if kind.lower() == "openai" else "cognitiveservices.azure.com"
    return f"https://{subdomain}.{domain}/"


def _created(arm: Arm, account: Resource) -> Resource:
    """The `created` hook: the RP gives a new account its endpoint (the account's keys come on first use)."""
    props = account.setdefault("properties", {})
    props.setdefault(
        "endpoint", endpoint_of(props.get("customSubDomainName") or account["name"], account.get("kind", ""))
    )
    return account


def account_type(keys: KeyBook, deleted: DeletedAccounts) -> ResourceType:
    return ResourceType(
        type=ACCOUNT_TYPE,
        api_versions=API_VERSIONS,
        swagger=schema,
        definition="Account",
        long_running=frozenset({"PUT", "PATCH", "DELETE"}),
        requires_location=True,
        actions={"listkeys": keys.list_keys, "regeneratekey": keys.regenerate_key},
        hooks=Hooks(check=deleted.check_create, created=_created, deleted=deleted.remember),
    )
