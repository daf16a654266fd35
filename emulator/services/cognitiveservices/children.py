"""Deployments and RAI policies, children of an account.

Deployment writes are long-running; RAI policy writes are not (FACTS.md §3). A SystemManaged RAI policy
(Microsoft.DefaultV2) is read-only: its PUT is 400 OperationNotAllowed and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.arm.errors import ArmError
from emulator.arm.plane import Arm
from emulator.arm.types import Hooks, Resource, ResourceType

from .keys import ACCOUNT_TYPE
from .versions import API_VERSIONS, schema


def _refuse_system_managed(arm: Arm, resource_id: str, existing: Resource | None, body: Mapping[str, Any]) -> None:
    props = existing.get("properties") if existing is not None else None
    if isinstance(props, Mapping) and str(props.get("type", "")).lower() == "systemmanaged":
        raise ArmError(
            400,
            "OperationNotAllowed",
            f"The RAI policy '{existing.get('name') if existing else ''}' is system managed and cannot be modified. "
            "Create a user-managed policy and reference it from the deployment instead.",
            target="properties.type",
        )


def _user_managed(arm: Arm, policy: Resource) -> Resource:
    """Customer policies are UserManaged (a read-only property the RP sets)."""
    policy.setdefault("properties", {}).setdefault("type", "UserManaged")
    return policy


DEPLOYMENTS = ResourceType(
    type=f"{ACCOUNT_TYPE}/deployments",
    api_versions=API_VERSIONS,
    swagger=schema,
    definition="Deployment",
    long_running=frozenset({"PUT", "PATCH", "DELETE"}),
)
RAI_POLICIES = ResourceType(
    type=f"{ACCOUNT_TYPE}/raiPolicies",
    api_versions=API_VERSIONS,
    swagger=schema,
    definition="RaiPolicy",
    methods=frozenset({"GET", "PUT", "DELETE"}),
    hooks=Hooks(check=_refuse_system_managed, created=_user_managed),
)
