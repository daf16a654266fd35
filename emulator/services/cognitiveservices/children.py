"""Deployments and RAI policies, children of an account.

Deployment writes are long-running; RAI policy writes are not (FACTS.md §3). A SystemManaged RAI policy
(Microsoft.DefaultV2) is read-only: its PUT is 400 OperationNotAllowed and changes nothing.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from typing import Any

from emulator.arm.errors import ArmError
from emulator.arm.plane import Arm
from emulator.arm.swagger import Swagger
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


#: Deployment properties of the 2026-09-01 API (its PutDeployment example, vendored under
#: tests/fixtures/reference/cognitiveservices/2026-09-01/examples/) that the 2025-09-01 slice lacks. The
#: emulator accepts 2026-09-01 requests and serves one shape whatever the version, so without these a PUT
#: would prune them and a deployment made by a newer client would lose them on its next write. Strings, with
#: no enum: the 2026-09-01 swagger is not vendored, so no closed list of values is known.
NEWER_DEPLOYMENT_PROPERTIES: Mapping[str, Any] = {
    "deploymentState": {"type": "string"},
    "serviceTier": {"type": "string"},
}


@functools.cache
def deployment_schema() -> Swagger:
    """The 2025-09-01 slice with DeploymentProperties extended by NEWER_DEPLOYMENT_PROPERTIES (a copy: the
    slice other types use is unchanged)."""
    base = schema()
    extended = copy.copy(base)
    found = base.definitions["DeploymentProperties"]
    definitions = dict(base.definitions)
    definitions["DeploymentProperties"] = {
        **found,
        "properties": {**found.get("properties", {}), **NEWER_DEPLOYMENT_PROPERTIES},
    }
    extended.definitions = definitions
    return extended


DEPLOYMENTS = ResourceType(
    type=f"{ACCOUNT_TYPE}/deployments",
    api_versions=API_VERSIONS,
    swagger=deployment_schema,
    definition="Deployment",
    long_running=frozenset({"PUT", "PATCH", "DELETE"}),
    # The 2026-09-01 PutDeployment example's 201 (tests/fixtures/reference/cognitiveservices/2026-09-01/).
    creating_state="Accepted",
)
RAI_POLICIES = ResourceType(
    type=f"{ACCOUNT_TYPE}/raiPolicies",
    api_versions=API_VERSIONS,
    swagger=schema,
    definition="RaiPolicy",
    methods=frozenset({"GET", "PUT", "DELETE"}),
    hooks=Hooks(check=_refuse_system_managed, created=_user_managed),
)
