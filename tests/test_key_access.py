"""KeyAccessChecker against the emulator: access policies, role assignments at the key and inherited from above,
wrong and custom roles, the exact `missing` grant, and the requests it costs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator import Emulator
from emulator.services.authorization.definitions import BUILT_IN_FILES
from warden.azure.clients import ClientFactory
from warden.azure.credentials import StaticTokenCredential
from warden.azure.key_access import KEY_DATA_ACTIONS, KNOWN_ROLES, KeyAccessChecker, action_matches, granted_actions
from warden.errors import PermissionDeniedError
from warden.settings import RetryOptions
from warden.vault_model import AccessPolicy, KeyAccess, VaultSnapshot

SUB = "00000000-1111-2222-3333-444444444444"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-kv"
VAULT_ID = f"{RG}/providers/Microsoft.KeyVault/vaults/kv-cmk"
KEY = f"{VAULT_ID}/keys/cmk"
MI = "aaaaaaaa-0000-4000-8000-000000000001"
SOMEONE = "bbbbbbbb-0000-4000-8000-000000000002"
ROLES = "Microsoft.Authorization/roleDefinitions"
CSEU = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"
CRYPTO_OFFICER = "14b46e9e-c2b7-41b4-b07b-48a6ebf60603"
ADMIN = "00482a5a-887f-4fb3-b363-3b7fe8e74483"
READER = "21090545-7ca7-4776-b22c-e363652d74d2"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CUSTOM = "c0c0c0c0-1111-4222-8333-444444444444"
MISSING = f"role Key Vault Crypto Service Encryption User ({CSEU}) for principal {MI} at scope {KEY}"


def vault(*, rbac: bool | None = True, policies: tuple[AccessPolicy, ...] = ()) -> VaultSnapshot:
    return VaultSnapshot(
        resource_id=VAULT_ID,
        name="kv-cmk",
        vault_uri="https://kv-cmk.vault.azure.net/",
        soft_delete=True,
        purge_protection=True,
        rbac_authorization=rbac,
        access_policies=policies,
    )


def assignment(scope: str, role: str, n: int = 1, principal: str = MI, **props: Any) -> dict[str, Any]:
    """A role assignment as ARM returns it."""
    name = f"00000000-0000-4000-8000-{n:012d}"
    return {
        "properties": {
            "roleDefinitionId": f"/subscriptions/{SUB}/providers/{ROLES}/{role}",
            "principalId": principal,
            "principalType": "ServicePrincipal",
            "scope": scope,
            **props,
        },
        "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
        "type": "Microsoft.Authorization/roleAssignments",
        "name": name,
    }


def custom_role(guid: str, name: str, data_actions: list[str], not_data_actions: list[str] | None = None) -> Any:
    return {
        "id": f"/subscriptions/{SUB}/providers/{ROLES}/{guid}",
        "name": guid,
        "type": ROLES,
        "properties": {
            "roleName": name,
            "type": "CustomRole",
            "assignableScopes": [f"/subscriptions/{SUB}"],
            "permissions": [
                {
                    "actions": [],
                    "notActions": [],
                    "dataActions": data_actions,
                    "notDataActions": not_data_actions or [],
                }
            ],
        },
    }


class World:
    """One emulator per test, and the checker on its own ClientFactory."""

    def __init__(self) -> None:
        self.emu: Emulator | None = None

    def start(self, *resources: dict[str, Any], roles: list[Any] | None = None, **options: Any) -> KeyAccessChecker:
        self.emu = Emulator({"resources": list(resources), "roleDefinitions": roles or [], "options": options})
        self.emu.start()
        fast = RetryOptions(total=1, backoff_factor=0.01, backoff_max=0.05)
        factory = ClientFactory(
            StaticTokenCredential(), base_url=self.emu.endpoint, connection_verify=self.emu.ca_path, retry=fast
        )
        return KeyAccessChecker(factory)

    def calls(self) -> list[tuple[str, str, str | None]]:
        assert self.emu is not None
        return [(r.method, r.path, r.query.get("$filter")) for r in self.emu.requests]


@pytest.fixture
def world() -> Iterator[World]:
    made = World()
    yield made
    if made.emu is not None:
        made.emu.stop()


LIST = ("GET", f"{KEY}/providers/Microsoft.Authorization/roleAssignments", f"assignedTo('{MI}')")


# --- access policies ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "keys",
    [
        frozenset({"get", "wrapkey", "unwrapkey"}),
        frozenset({"Get", "WrapKey", "UnwrapKey", "list"}),
        frozenset({"all"}),
    ],
)
def test_an_access_policy_with_get_wrap_unwrap_grants(world: World, keys: frozenset[str]) -> None:
    checker = world.start()
    policy = AccessPolicy(object_id=MI.upper(), keys=keys)
    access = checker.can_use_key(vault(rbac=False, policies=(policy,)), "cmk", MI)
    assert access.granted
    assert access.how.startswith(f"access policy on vault kv-cmk for object id {MI}")
    assert world.calls() == []  # the vault snapshot already holds its policies


@pytest.mark.parametrize(
    "policies",
    [
        (),
        (AccessPolicy(object_id=MI, keys=frozenset({"get", "wrapkey"})),),
        (AccessPolicy(object_id=SOMEONE, keys=frozenset({"all"})),),
    ],
)
@pytest.mark.parametrize("rbac", [False, None])
def test_without_a_full_access_policy_the_missing_policy_is_named(
    world: World, policies: tuple[AccessPolicy, ...], rbac: bool | None
) -> None:
    checker = world.start(assignment(KEY, CSEU))  # role assignments do not count on an access-policy vault
    assert checker.can_use_key(vault(rbac=rbac, policies=policies), "cmk", MI) == KeyAccess(
        granted=False,
        missing=f"an access policy on vault kv-cmk for object id {MI} with key permissions get, wrapKey, unwrapKey",
    )
    assert world.calls() == []


def test_access_policies_of_one_identity_add_up(world: World) -> None:
    split = (
        AccessPolicy(object_id=MI, keys=frozenset({"get"})),
        AccessPolicy(object_id=MI, keys=frozenset({"wrapkey", "unwrapkey"})),
    )
    assert world.start().can_use_key(vault(rbac=False, policies=split), "cmk", MI).granted


# --- role assignments ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("scope", "role", "name"),
    [
        (KEY, CSEU, "Key Vault Crypto Service Encryption User"),
        (VAULT_ID, CRYPTO_USER, "Key Vault Crypto User"),
        (RG, CRYPTO_OFFICER, "Key Vault Crypto Officer"),
        (f"/subscriptions/{SUB}", ADMIN, "Key Vault Administrator"),
        # A management group's id is no prefix of the key's, yet ARM lists it as above the key.
        ("/providers/Microsoft.Management/managementGroups/mg-corp", CSEU, "Key Vault Crypto Service Encryption User"),
    ],
)
def test_a_granting_role_at_or_above_the_key_grants(world: World, scope: str, role: str, name: str) -> None:
    checker = world.start(assignment(scope, role))
    assert checker.can_use_key(vault(), "cmk", MI) == KeyAccess(
        granted=True, how=f"role {name} ({role}) at scope {scope}"
    )
    assert world.calls() == [LIST]  # one list, and no role definition read for a role warden knows


def test_a_wrong_role_is_denied_with_the_exact_grant_to_add(world: World) -> None:
    checker = world.start(assignment(KEY, READER), assignment(f"/subscriptions/{SUB}", OWNER, 2))
    assert checker.can_use_key(vault(), "cmk", MI) == KeyAccess(granted=False, missing=MISSING)
    assert world.calls() == [LIST]


@pytest.mark.parametrize(
    "elsewhere",
    [
        assignment(f"{VAULT_ID}/keys/other", CSEU),  # another key of the vault
        assignment(KEY, CSEU, principal=SOMEONE),  # someone else
        assignment(f"{RG}/providers/Microsoft.KeyVault/vaults/kv-other", CSEU),  # another vault
        assignment(f"{KEY}/versions/v1", CSEU),  # below the key: ARM lists it, yet it does not cover the key
    ],
)
def test_grants_that_do_not_reach_the_key_for_this_identity_do_not_count(world: World, elsewhere: Any) -> None:
    assert world.start(elsewhere).can_use_key(vault(), "cmk", MI) == KeyAccess(granted=False, missing=MISSING)


def test_a_custom_role_grants_through_a_wildcard(world: World) -> None:
    role = custom_role(CUSTOM, "CMK key user", ["Microsoft.KeyVault/vaults/keys/*"])
    checker = world.start(assignment(VAULT_ID, CUSTOM), roles=[role])
    access = checker.can_use_key(vault(), "cmk", MI)
    assert access == KeyAccess(granted=True, how=f"role CMK key user ({CUSTOM}) at scope {VAULT_ID}")
    assert world.calls() == [LIST, ("GET", f"/subscriptions/{SUB}/providers/{ROLES}/{CUSTOM}", None)]


def test_a_custom_role_is_read_once_and_its_not_data_actions_take_away(world: World) -> None:
    role = custom_role(
        CUSTOM, "No unwrap", ["Microsoft.KeyVault/vaults/*"], ["Microsoft.KeyVault/vaults/keys/unwrap/action"]
    )
    checker = world.start(assignment(KEY, CUSTOM), assignment(VAULT_ID, CUSTOM, 2), roles=[role])
    assert checker.can_use_key(vault(), "cmk", MI) == KeyAccess(granted=False, missing=MISSING)
    assert world.calls() == [LIST, ("GET", f"/subscriptions/{SUB}/providers/{ROLES}/{CUSTOM}", None)]


def test_roles_that_each_grant_part_add_up(world: World) -> None:
    wrap = custom_role(
        CUSTOM, "Wrap", ["Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/keys/wrap/action"]
    )
    other = "d0d0d0d0-1111-4222-8333-444444444444"
    unwrap = custom_role(other, "Unwrap", ["Microsoft.KeyVault/vaults/keys/unwrap/action"])
    checker = world.start(assignment(KEY, CUSTOM), assignment(RG, other, 2), roles=[wrap, unwrap])
    access = checker.can_use_key(vault(), "cmk", MI)
    assert access == KeyAccess(
        granted=True, how=f"role Wrap ({CUSTOM}) at scope {KEY}; role Unwrap ({other}) at scope {RG}"
    )


def test_a_role_that_no_longer_exists_grants_nothing(world: World) -> None:
    checker = world.start(assignment(KEY, CUSTOM))  # the custom role was deleted, its assignment left behind
    assert checker.can_use_key(vault(), "cmk", MI) == KeyAccess(granted=False, missing=MISSING)
    assert [c[0] for c in world.calls()] == ["GET", "GET"]


def test_a_conditional_assignment_is_not_counted(world: World) -> None:
    conditional = assignment(
        KEY,
        CSEU,
        condition="@Resource[Microsoft.KeyVault/vaults/keys:KeyName] StringEquals 'x'",
        conditionVersion="2.0",
    )
    assert world.start(conditional).can_use_key(vault(), "cmk", MI).granted is False


def test_every_page_of_assignments_is_read(world: World) -> None:
    readers = [assignment(scope, READER, n) for n, scope in enumerate((f"/subscriptions/{SUB}", RG, KEY, VAULT_ID), 2)]
    checker = world.start(*readers, assignment(VAULT_ID, CSEU, 9), pageSize=2)  # the grant sorts last
    assert (
        checker.can_use_key(vault(), "cmk", MI).how
        == f"role Key Vault Crypto Service Encryption User ({CSEU}) at scope {VAULT_ID}"
    )
    pages = world.calls()
    assert len(pages) == 3 and all(p[2] == f"assignedTo('{MI}')" for p in pages)


def test_a_403_on_the_list_is_permission_denied(world: World) -> None:
    checker = world.start(assignment(KEY, CSEU))
    assert world.emu is not None
    world.emu.add_fault("GET", "roleAssignments$", "server-error", status=403)
    with pytest.raises(PermissionDeniedError, match="list role assignments"):
        checker.can_use_key(vault(), "cmk", MI)


def test_an_object_id_that_could_break_the_filter_is_refused(world: World) -> None:
    with pytest.raises(ValueError, match="not an object id"):
        world.start().can_use_key(vault(), "cmk", "x') or atScope() or ('")


# --- the role table and the matcher -------------------------------------------------------------
def _definitions() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in BUILT_IN_FILES:
        for block in json.loads(Path(path).read_text(encoding="utf-8"))["roles"]:
            out[block["name"]] = block
    return out


@pytest.mark.parametrize("guid", sorted(KNOWN_ROLES))
def test_known_roles_agree_with_their_definitions(guid: str) -> None:
    block = _definitions()[guid]
    granted = granted_actions((p.get("dataActions", []), p.get("notDataActions", [])) for p in block["permissions"])
    assert KNOWN_ROLES[guid].name == block["roleName"]
    assert KNOWN_ROLES[guid].grants == (granted == frozenset(KEY_DATA_ACTIONS))


@pytest.mark.parametrize(
    ("pattern", "action", "matches"),
    [
        ("Microsoft.KeyVault/vaults/*", "Microsoft.KeyVault/vaults/keys/wrap/action", True),
        ("microsoft.keyvault/vaults/keys/*", "Microsoft.KeyVault/vaults/keys/read", True),
        ("Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/vaults/keys/read", True),
        ("Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/vaults/keys/wrap/action", False),
        ("Microsoft.KeyVault/vaults/secrets/*", "Microsoft.KeyVault/vaults/keys/read", False),
        ("*", "Microsoft.KeyVault/vaults/keys/read", True),
        ("Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/keys/readx", False),
    ],
)
def test_action_patterns(pattern: str, action: str, matches: bool) -> None:
    assert action_matches(pattern, action) is matches
