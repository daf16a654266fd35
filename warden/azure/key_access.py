"""AccessPort over azure-mgmt-authorization: whether an identity may get, wrap and unwrap with a Key Vault key
(what an account needs for a customer-managed key), by the vault's access policies or its role assignments,
and when it may not, the exact grant a human has to add.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from azure.mgmt.authorization import AuthorizationManagementClient

from warden.access_model import role_guid
from warden.azure.clients import ClientFactory
from warden.azure.errors import classified_errors
from warden.errors import ResourceGoneError
from warden.ids import assignment_scope, at_or_above, subscription_of
from warden.vault_model import AccessPolicy, KeyAccess, VaultSnapshot

log = logging.getLogger(__name__)

#: The data actions that using a key for encryption takes on an RBAC vault.
KEY_DATA_ACTIONS = (
    "Microsoft.KeyVault/vaults/keys/read",
    "Microsoft.KeyVault/vaults/keys/wrap/action",
    "Microsoft.KeyVault/vaults/keys/unwrap/action",
)
#: The key permissions it takes on a vault with access policies (compared case-insensitively; `all` covers them).
POLICY_PERMISSIONS = ("get", "wrapKey", "unwrapKey")
#: The narrowest built-in role that grants exactly KEY_DATA_ACTIONS: the one `missing` asks for.
REQUIRED_ROLE = ("Key Vault Crypto Service Encryption User", "e147488a-f6f5-4113-8e2d-b22465e65bf6")


@dataclass(frozen=True)
class KnownRole:
    """A built-in role warden knows without asking ARM: its name and whether it grants KEY_DATA_ACTIONS."""

    name: str
    grants: bool


# Built-in roles by GUID, from their definitions in emulator/services/authorization/keyvault-builtin-roles.json
# and tests/fixtures/reference/rbac/ (tests/test_key_access.py checks each `grants` against those permissions).
# Any other role is read with role_definitions.get_by_id and its data actions matched.
KNOWN_ROLES: dict[str, KnownRole] = {
    "00482a5a-887f-4fb3-b363-3b7fe8e74483": KnownRole("Key Vault Administrator", grants=True),
    "14b46e9e-c2b7-41b4-b07b-48a6ebf60603": KnownRole("Key Vault Crypto Officer", grants=True),
    "e147488a-f6f5-4113-8e2d-b22465e65bf6": KnownRole("Key Vault Crypto Service Encryption User", grants=True),
    "12338af0-0e69-4776-bea7-57ae8d297424": KnownRole("Key Vault Crypto User", grants=True),
    "21090545-7ca7-4776-b22c-e363652d74d2": KnownRole("Key Vault Reader", grants=False),
    # Control-plane roles: `*` in actions reaches no data action.
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": KnownRole("Owner", grants=False),
    "b24988ac-6180-42a0-ab88-20f7382dd24c": KnownRole("Contributor", grants=False),
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": KnownRole("User Access Administrator", grants=False),
}
# An object id goes into an OData filter; only GUID characters may, so a quote can never end the literal.
_OBJECT_ID = re.compile(r"[A-Za-z0-9-]+")


def action_matches(pattern: str, action: str) -> bool:
    """Whether a role's (data) action `pattern` covers `action`: case-insensitive, `*` matching any run of
    characters, `/` included (`Microsoft.KeyVault/vaults/*/read` covers `.../vaults/keys/read`)."""
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, action, re.IGNORECASE) is not None


def granted_actions(permissions: Iterable[tuple[Sequence[str], Sequence[str]]]) -> frozenset[str]:
    """Which KEY_DATA_ACTIONS a role's permission blocks, each (dataActions, notDataActions), grant. A block's
    notDataActions take away only from that block's dataActions, as Azure RBAC computes them."""
    out: set[str] = set()
    for allowed, denied in permissions:
        for action in KEY_DATA_ACTIONS:
            if any(action_matches(p, action) for p in allowed) and not any(action_matches(p, action) for p in denied):
                out.add(action)
    return frozenset(out)


def key_scope(vault: VaultSnapshot, key_name: str) -> str:
    """The key's ARM scope, where a role assignment for that one key lives."""
    return f"{vault.resource_id.rstrip('/')}/keys/{key_name}"


def by_access_policy(vault: VaultSnapshot, principal_id: str) -> KeyAccess:
    """A vault without RBAC authorization: the principal's access policies (all of them, as Key Vault adds
    them up) must hold get, wrapKey and unwrapKey."""
    mine: list[AccessPolicy] = [p for p in vault.access_policies if p.object_id.lower() == principal_id.lower()]
    held = {k.lower() for p in mine for k in p.keys}
    if "all" in held or {p.lower() for p in POLICY_PERMISSIONS} <= held:
        return KeyAccess(
            granted=True,
            how=f"access policy on vault {vault.name} for object id {principal_id} "
            f"(key permissions {', '.join(sorted(held))})",
        )
    return KeyAccess(
        granted=False,
        missing=f"an access policy on vault {vault.name} for object id {principal_id} "
        f"with key permissions {', '.join(POLICY_PERMISSIONS)}",
    )


class KeyAccessChecker:
    """The AccessPort for real. On an RBAC vault it costs one paged list of the principal's role assignments
    at the key (ARM returns those at, above and below it), plus one role definition read per role it does not
    know (KNOWN_ROLES), once per check."""

    def __init__(self, clients: ClientFactory) -> None:
        self._factory = clients

    def can_use_key(self, vault: VaultSnapshot, key_name: str, principal_id: str) -> KeyAccess:
        if not _OBJECT_ID.fullmatch(principal_id):
            raise ValueError(f"{principal_id!r} is not an object id")
        if vault.rbac_authorization is not True:
            # Null or missing means access policies: Key Vault's default permission model.
            return by_access_policy(vault, principal_id)
        return self._by_role_assignments(vault, key_name, principal_id)

    def _by_role_assignments(self, vault: VaultSnapshot, key_name: str, principal_id: str) -> KeyAccess:
        scope = key_scope(vault, key_name)
        client = self._factory.arm(AuthorizationManagementClient, subscription_of(vault.resource_id))
        with classified_errors(f"list role assignments of {principal_id} at {scope}"):
            # assignedTo() also brings the assignments of the principal's groups, which principalId eq does not.
            assignments: list[Any] = list(
                client.role_assignments.list_for_scope(scope=scope, filter=f"assignedTo('{principal_id}')")
            )
        roles: dict[str, tuple[str, frozenset[str]]] = {}
        covered: dict[str, str] = {}  # action -> the grant that covers it
        for assignment in assignments:
            where = str(assignment.scope or assignment_scope(str(assignment.id or "")))
            # ARM lists only the assignments on the key's own line (at, above, below it); one at a management
            # group or the root is above it, although its id is no prefix of the key's.
            if subscription_of(where) and not at_or_above(where, scope):
                continue  # below the key: it does not reach the key itself
            if assignment.condition:
                # An ABAC condition may narrow the grant (to some keys, some actions); warden cannot evaluate
                # it, so it does not count, and a human decides.
                log.info("role assignment %s has a condition; not counted for key %s", assignment.id, scope)
                continue
            role_id = str(assignment.role_definition_id or "")
            guid = role_guid(role_id)
            if guid not in roles:
                roles[guid] = self._role(client, role_id, guid)
            name, actions = roles[guid]
            grant = f"role {name} ({guid}) at scope {where}"
            if actions >= set(KEY_DATA_ACTIONS):
                return KeyAccess(granted=True, how=grant)
            for action in actions:
                covered.setdefault(action, grant)
        if set(covered) >= set(KEY_DATA_ACTIONS):
            # Permissions add up across assignments: several roles may each grant part of what is needed.
            return KeyAccess(granted=True, how="; ".join(dict.fromkeys(covered[a] for a in KEY_DATA_ACTIONS)))
        name, guid = REQUIRED_ROLE
        return KeyAccess(granted=False, missing=f"role {name} ({guid}) for principal {principal_id} at scope {scope}")

    def _role(self, client: AuthorizationManagementClient, role_id: str, guid: str) -> tuple[str, frozenset[str]]:
        """(name, granted KEY_DATA_ACTIONS) of a role: from KNOWN_ROLES, else read from ARM."""
        known = KNOWN_ROLES.get(guid)
        if known is not None:
            return known.name, frozenset(KEY_DATA_ACTIONS) if known.grants else frozenset()
        try:
            with classified_errors(f"read role definition {role_id}"):
                definition: Any = client.role_definitions.get_by_id(role_id)
        except ResourceGoneError:
            # An assignment may outlive its custom role; a role that does not exist grants nothing.
            log.warning("role definition %s of an assignment does not exist; it grants nothing", role_id)
            return guid, frozenset()
        blocks = [(p.data_actions or [], p.not_data_actions or []) for p in definition.permissions or []]
        return str(definition.role_name or guid), granted_actions(blocks)
