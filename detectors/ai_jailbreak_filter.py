"""Control ai.jailbreak-filter: every deployment's content filter (its RAI policy, or the default policy when it
names none) has the Jailbreak filter enabled and blocking on prompts, and Indirect Attack too when the baseline
requires it.

The fix copies the policy (SystemManaged ones are never changed), turns the filters on in the copy, and points
the deployment at it with a PUT that keeps every other field (docs/ai.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from remediators.deployment_rai_policy import DeploymentRaiPolicy
from remediators.rai_policy_copy import RaiPolicyCopy
from warden.ai_model import Deployment, RaiPolicy
from warden.control import DEPLOYMENT_WRITTEN, Control, EventRoute, Fact, Facts, param
from warden.model import Finding
from warden.params import boolean
from warden.params_ai import policy_name
from warden.rai import EXPECTED, compliant_properties, copy_name, observed, problems
from warden.steps import Step

_POLICIES = "Microsoft.CognitiveServices/accounts/raiPolicies"


@dataclass(frozen=True)
class Params:
    require_indirect_attack: bool = field(
        default=False, metadata=param(boolean, "also require the Indirect Attack filter, blocking, on prompts")
    )
    default_policy: str = field(
        default="Microsoft.DefaultV2", metadata=param(policy_name, "the policy a deployment naming none gets")
    )


def detect(facts: Facts, params: Params) -> list[Finding]:
    judge = partial(problems, require_indirect_attack=params.require_indirect_attack)
    findings = []
    for deployment in sorted(facts.deployments, key=lambda d: d.name.lower()):
        name = deployment.rai_policy_name or params.default_policy
        policy = facts.rai_policy(name)
        wrong = judge(policy) if policy else []
        if policy is not None and not wrong:
            continue
        seen = observed(deployment, name, policy, require_indirect_attack=params.require_indirect_attack)
        # A policy deleted under a deployment: its settings are gone, so the fix starts from the default.
        source = policy or (facts.rai_policy(params.default_policy) if deployment.rai_policy_name else None)
        why = "; ".join(wrong) or f"its policy {name} does not exist"
        why = why if source else f"neither its policy nor the default {params.default_policy} exists: a human must act"
        fix = _fix(facts, deployment, source, params) if source else ()
        why = f"deployment {deployment.name}: {why}"
        findings.append(Finding(CONTROL.id, facts.account.resource_id, why, seen, EXPECTED, fix))
    return findings


def _fix(facts: Facts, deployment: Deployment, source: RaiPolicy, params: Params) -> tuple[Step, ...]:
    """The copy (unless a compliant one of that name is already there), then the deployment re-pointed; or,
    for a deployment whose policy is gone, the default policy itself when that one is compliant."""
    judge = partial(problems, require_indirect_attack=params.require_indirect_attack)
    wanted = compliant_properties(source, require_indirect_attack=params.require_indirect_attack)
    target = source.name if not judge(source) else copy_name(wanted)
    steps: list[Step] = []
    if (there := facts.rai_policy(target)) is None or judge(there):
        steps.append(RaiPolicyCopy.of(facts.account.resource_id, target, source.name, wanted, tuple(judge(source))))
    steps.append(DeploymentRaiPolicy(deployment.resource_id, target, deployment.rai_policy_name, deployment.etag))
    return tuple(steps)


CONTROL = Control(
    id="ai.jailbreak-filter",
    summary="every deployment's content filter blocks jailbreak (and, if required, indirect) attacks on prompts",
    params=Params,
    routes=(
        DEPLOYMENT_WRITTEN,
        EventRoute("Microsoft.Resources.ResourceWriteSuccess", f"{_POLICIES}/write"),
        # A deleted policy can leave deployments pointing at nothing.
        EventRoute("Microsoft.Resources.ResourceDeleteSuccess", f"{_POLICIES}/delete"),
    ),
    facts=frozenset({Fact.ACCOUNT, Fact.DEPLOYMENTS, Fact.RAI_POLICY}),
    steps=(RaiPolicyCopy, DeploymentRaiPolicy),
    detect=detect,
)
