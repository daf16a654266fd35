"""ai.jailbreak-filter detector: content filters judged, and the copy-then-re-point fix, on data built in code."""

from __future__ import annotations

from typing import Any

from detectors.ai_jailbreak_filter import CONTROL, Params
from remediators.deployment_rai_policy import DeploymentRaiPolicy
from remediators.rai_policy_copy import RaiPolicyCopy
from tests.detectors.given import RID, Given, snapshot
from warden.ai_model import Deployment, RaiPolicy
from warden.rai import compliant_properties, copy_name

HATE = {"name": "Hate", "blocking": True, "enabled": True, "severityThreshold": "Medium", "source": "Prompt"}


def policy(name: str, *, jailbreak: dict[str, Any] | None = None, system: bool = False, **extra: Any) -> RaiPolicy:
    filters: list[Any] = [HATE] + ([jailbreak] if jailbreak is not None else [])
    props = {"mode": "Blocking", "basePolicyName": "Microsoft.Default", "contentFilters": filters, **extra}
    kind = "SystemManaged" if system else "UserManaged"
    return RaiPolicy(f"{RID}/raiPolicies/{name}", name, kind, {"type": kind, **props})


ON = {"name": "Jailbreak", "blocking": True, "source": "Prompt", "enabled": True}
OFF = {"name": "jailbreak", "blocking": False, "source": "Prompt", "enabled": True}


def deployment(name: str, policy_name: str | None) -> Deployment:
    return Deployment(f"{RID}/deployments/{name}", name, policy_name, "gpt-4o", etag=f'"{name}-1"')


def given(*deployments: Deployment, policies: list[RaiPolicy]) -> Given:
    return Given(snapshot(), deployments=deployments, policies={p.name: p for p in policies})


def test_a_policy_with_jailbreak_on_and_blocking_is_compliant() -> None:
    assert (
        CONTROL.detect(given(deployment("chat", "strict"), policies=[policy("strict", jailbreak=ON)]), Params()) == []
    )


def test_a_deployment_naming_no_policy_is_judged_on_the_default() -> None:
    facts = given(deployment("chat", None), policies=[policy("Microsoft.DefaultV2", jailbreak=ON, system=True)])
    assert CONTROL.detect(facts, Params()) == []
    [finding] = CONTROL.detect(facts, Params(require_indirect_attack=True))
    assert finding.observed["Indirect Attack"] is None and "no Indirect Attack filter" in finding.summary


def test_the_fix_copies_the_policy_with_only_jailbreak_turned_on_then_re_points_the_deployment() -> None:
    source = policy("loose", jailbreak=OFF, customBlocklists=[{"blocklistName": "b", "blocking": True}], extra=1)
    [finding] = CONTROL.detect(given(deployment("chat", "loose"), policies=[source]), Params())
    copy, repoint = finding.fix
    assert isinstance(copy, RaiPolicyCopy) and isinstance(repoint, DeploymentRaiPolicy)
    # Everything but the jailbreak filter is as it was, the unknown `extra` and the blocklists included.
    assert copy.properties == {
        "mode": "Blocking",
        "basePolicyName": "Microsoft.Default",
        "contentFilters": [HATE, {**OFF, "blocking": True}],
        "customBlocklists": [{"blocklistName": "b", "blocking": True}],
        "extra": 1,
    }
    assert copy.name == copy_name(copy.properties) and copy.name.startswith("warden-")
    assert copy.source == "loose" and copy.target == f"{RID}/raiPolicies/{copy.name}"
    assert repoint == DeploymentRaiPolicy(f"{RID}/deployments/chat", copy.name, "loose", '"chat-1"')
    assert finding.observed["Jailbreak"] == OFF


def test_a_system_managed_policy_is_never_the_target_only_the_source() -> None:
    source = policy("Microsoft.DefaultV2", system=True)
    [finding] = CONTROL.detect(given(deployment("chat", None), policies=[source]), Params())
    copy, repoint = finding.fix
    assert isinstance(copy, RaiPolicyCopy) and copy.name != source.name and "type" not in copy.properties
    assert copy.properties["basePolicyName"] == "Microsoft.Default"  # as the source says
    bare = RaiPolicy(source.resource_id, source.name, "SystemManaged", {"contentFilters": [HATE]})
    [finding] = CONTROL.detect(given(deployment("chat", None), policies=[bare]), Params())
    assert finding.fix[0].properties["basePolicyName"] == "Microsoft.DefaultV2"  # type: ignore[attr-defined]
    assert isinstance(repoint, DeploymentRaiPolicy) and repoint.before is None


def test_two_deployments_on_one_policy_need_one_copy() -> None:
    facts = given(deployment("a", "loose"), deployment("b", "loose"), policies=[policy("loose", jailbreak=OFF)])
    first, second = CONTROL.detect(facts, Params())
    assert first.fix[0] == second.fix[0]  # equal steps: the planner keeps one PUT


def test_an_existing_compliant_copy_is_reused_without_a_put() -> None:
    source = policy("loose", jailbreak=OFF)
    name = copy_name(compliant_properties(source, require_indirect_attack=False))
    copy = RaiPolicy(f"{RID}/raiPolicies/{name}", name, "UserManaged", {"contentFilters": [ON]})
    [finding] = CONTROL.detect(given(deployment("chat", "loose"), policies=[source, copy]), Params())
    assert finding.fix == (DeploymentRaiPolicy(f"{RID}/deployments/chat", name, "loose", '"chat-1"'),)


def test_a_deleted_policy_re_points_at_a_compliant_default() -> None:
    default = policy("Microsoft.DefaultV2", jailbreak=ON, system=True)
    [finding] = CONTROL.detect(given(deployment("chat", "gone"), policies=[default]), Params())
    assert "does not exist" in finding.summary
    assert finding.fix == (DeploymentRaiPolicy(f"{RID}/deployments/chat", "Microsoft.DefaultV2", "gone", '"chat-1"'),)


def test_no_policy_and_no_default_is_for_a_human() -> None:
    [finding] = CONTROL.detect(given(deployment("chat", "gone"), policies=[]), Params())
    assert finding.fix == () and "a human must act" in finding.summary


def test_filter_names_match_case_insensitively_and_a_completion_filter_does_not_count() -> None:
    on_completion = {**ON, "source": "Completion"}
    [finding] = CONTROL.detect(
        given(deployment("chat", "p"), policies=[policy("p", jailbreak=on_completion)]), Params()
    )
    assert "no Jailbreak filter on prompts" in finding.summary
    assert (
        CONTROL.detect(
            given(deployment("chat", "p"), policies=[policy("p", jailbreak={**ON, "name": "JAILBREAK"})]), Params()
        )
        == []
    )
