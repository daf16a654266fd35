"""Links (warden/state.py): the index warden keeps of which accounts use which vault's keys, in both stores,
and the fan-out that reads it (warden/cmk_index.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.state.conftest import MakeStore
from warden import cmk_index
from warden.model import AccountSnapshot, Caller, Encryption, EventSchema, ResourceEvent
from warden.state import LocalStateStore, StateStore

SUB = "6a1f3c2e-8d4b-4f7a-9c0e-2b5d7e9f1a3c"  # a key event's topic passed intake's id rules: a GUID subscription
VAULT_ID = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-cmk"


def account(name: str, key: str = "cmk", vault: str = "kv-cmk") -> AccountSnapshot:
    rid = f"/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/{name}"
    enc = Encryption("Microsoft.KeyVault", f"https://{vault}.vault.azure.net/", key, None)
    return AccountSnapshot(rid, name, "OpenAI", "eastus", "Succeeded", None, None, encryption=enc)


def key_event(key: str = "cmk") -> ResourceEvent:
    details = {"ObjectName": key, "VaultName": "KV-CMK"}
    return ResourceEvent(
        "e",
        "Microsoft.KeyVault.KeyNearExpiry",
        EventSchema.EVENT_GRID,
        VAULT_ID,
        "Microsoft.KeyVault.KeyNearExpiry",
        "s",
        "",
        "",
        Caller(),
        None,
        details=details,
    )


@pytest.fixture(params=["local", "blob"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> StateStore:
    if request.param == "local":
        return LocalStateStore(tmp_path)
    make: MakeStore = request.getfixturevalue("make_store")
    return make()


def test_links_are_kept_per_group_and_replaced_per_member(store: StateStore) -> None:
    store.link("g", "/subscriptions/s/A", {"key": "one"})
    store.link("G", "/subscriptions/S/a", {"key": "two"})  # group and member compare case-insensitively
    store.link("other", "/subscriptions/s/b", {"key": "x"})
    assert list(store.links("g").values()) == [{"key": "two"}]
    store.unlink("g", "/subscriptions/s/a")
    store.unlink("g", "/subscriptions/s/never-linked")  # nothing to remove is fine
    assert store.links("g") == {}
    assert store.links("other") == {"/subscriptions/s/b": {"key": "x"}}


def test_a_key_event_reaches_the_accounts_using_that_key_of_that_vault_only(store: StateStore) -> None:
    for each in (account("a"), account("b"), account("c", key="other"), account("d", vault="kv-else")):
        cmk_index.note(store, each)
    cmk_index.note(store, AccountSnapshot(account("e").resource_id, "e", "OpenAI", "eastus", None, None, None))
    vault, users = cmk_index.accounts_for(store, key_event())
    assert vault == "kv-cmk"
    assert users == [account("a").resource_id, account("b").resource_id]


def test_an_account_that_left_the_vault_leaves_the_index(store: StateStore) -> None:
    cmk_index.note(store, account("a"))
    moved = account("a", vault="kv-new")
    assert cmk_index.still_uses(store, "kv-cmk", moved, moved.resource_id) is False
    assert cmk_index.still_uses(store, "kv-new", moved, moved.resource_id) is True
    assert cmk_index.accounts_for(store, key_event())[1] == []
    gone = account("b")
    cmk_index.note(store, gone)
    assert cmk_index.still_uses(store, "kv-cmk", None, gone.resource_id) is False  # unreadable or deleted
    assert cmk_index.accounts_for(store, key_event())[1] == []
