"""Pure judgements over RAI policies (content filters): whether a policy has the Jailbreak filter (and, when the
baseline asks, Indirect Attack) enabled and blocking on prompts, and the compliant copy of one.

Filter names are matched case-insensitively (public templates spell them `jailbreak`; Azure's examples
`Jailbreak`). A copy keeps every other setting of its source exactly; its name is derived from its content, so
a redelivery, or a second deployment on the same policy, finds it already there (docs/ai.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from warden.ai_model import Deployment, RaiPolicy
from warden.model import Json

JAILBREAK = "Jailbreak"
INDIRECT_ATTACK = "Indirect Attack"
#: Read-only in ARM: never sent back in a PUT.
_READ_ONLY = ("type",)
#: Every warden copy's name starts so, and carries a digest of its content after it.
COPY_PREFIX = "warden-"
#: What every wanted filter must be, as a finding's expected value.
EXPECTED: dict[str, Json] = {"enabled": True, "blocking": True, "source": "Prompt"}


def _wanted(require_indirect_attack: bool) -> tuple[str, ...]:
    return (JAILBREAK, INDIRECT_ATTACK) if require_indirect_attack else (JAILBREAK,)


def _prompt_filter(filters: Any, name: str) -> Mapping[str, Any] | None:
    for item in filters if isinstance(filters, list) else []:
        if not isinstance(item, Mapping) or str(item.get("name", "")).lower() != name.lower():
            continue
        if str(item.get("source") or "Prompt").lower() == "prompt":
            return item
    return None


def problems(policy: RaiPolicy, *, require_indirect_attack: bool) -> list[str]:
    """What keeps the policy from blocking jailbreak (and indirect) attacks on prompts; [] when nothing does."""
    out: list[str] = []
    for name in _wanted(require_indirect_attack):
        found = _prompt_filter(policy.properties.get("contentFilters"), name)
        if found is None:
            out.append(f"no {name} filter on prompts")
        elif found.get("enabled") is not True or found.get("blocking") is not True:
            out.append(f"{name} filter enabled={found.get('enabled')} blocking={found.get('blocking')}")
    return out


def observed(
    deployment: Deployment, name: str, policy: RaiPolicy | None, *, require_indirect_attack: bool
) -> dict[str, Json]:
    """A deployment's content filter as its audit record shows it: the policy it names, the one that applies
    (`name`: the default when it names none), and the wanted prompt filters in it (None when absent)."""
    out: dict[str, Json] = {"deployment": deployment.name, "raiPolicyName": deployment.rai_policy_name, "policy": name}
    for wanted in _wanted(require_indirect_attack):
        found = _prompt_filter(policy.properties.get("contentFilters"), wanted) if policy else None
        out[wanted] = dict(found) if found is not None else None
    return out


def compliant_properties(source: RaiPolicy, *, require_indirect_attack: bool) -> dict[str, Json]:
    """The source's properties with the wanted prompt filters enabled and blocking (added when missing), every
    other setting kept exactly; read-only ones dropped. A copy of a SystemManaged policy that names no base
    policy names that policy as its base."""
    props: dict[str, Json] = {k: v for k, v in source.properties.items() if k not in _READ_ONLY}
    if source.system_managed and not props.get("basePolicyName"):
        props["basePolicyName"] = source.name  # a copy of a built-in policy is based on it
    raw = props.get("contentFilters")
    filters: list[Json] = list(raw) if isinstance(raw, list) else []
    for name in _wanted(require_indirect_attack):
        fixed: dict[str, Json] = {"name": name, "blocking": True, "source": "Prompt", "enabled": True}
        found = _prompt_filter(filters, name)
        if found is None:
            filters.append(fixed)
            continue
        index = next(i for i, item in enumerate(filters) if item is found)
        filters[index] = {**found, "enabled": True, "blocking": True, "source": found.get("source") or "Prompt"}
    props["contentFilters"] = filters
    return props


def copy_name(properties: Mapping[str, Json]) -> str:
    """`warden-<12 hex>`: the digest of the copy's content, so the same content always has the same name."""
    digest = hashlib.sha256(json.dumps(properties, sort_keys=True).encode()).hexdigest()
    return f"{COPY_PREFIX}{digest[:12]}"
