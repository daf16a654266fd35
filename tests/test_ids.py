"""Resource ids: ASCII only, ARM's naming rules before any call, and one canonical spelling for every key."""

from __future__ import annotations

import pytest

from warden.azure.cognitive import parse_account_id
from warden.azure.eventgrid import parse_events
from warden.model import Caller, EventSchema, ResourceEvent, account_id_of, normalize_id, same_id
from warden.routing import controls_for, is_relevant_event_type

SUB = "6a1f3c2e-8d4b-4f7a-9c0e-2b5d7e9f1a3c"
RID = f"/subscriptions/{SUB}/resourceGroups/ai-prod/providers/Microsoft.CognitiveServices/accounts/aoai-a"
# Letters that Unicode case-insensitive matching (or str.lower()) equates with ASCII ones.
LONG_S, KELVIN = "\u017f", "\u212a"
LOOK_ALIKES = [
    RID.replace("/subscriptions/", f"/{LONG_S}ubscriptions/"),
    RID.replace("Microsoft.", f"Micro{LONG_S}oft."),
    RID.replace("/accounts/", f"/account{LONG_S}/"),
    RID.replace("/resourceGroups/", f"/resourceGroup{LONG_S}/"),
    RID.replace("CognitiveServices", f"Cognitive{LONG_S}ervices"),
]


def arm_event(resource_id: str, operation: str = "Microsoft.CognitiveServices/accounts/write") -> dict[str, object]:
    return {
        "id": "e-1",
        "eventType": "Microsoft.Resources.ResourceWriteSuccess",
        "eventTime": "2026-11-28T12:00:00Z",
        "subject": resource_id,
        "data": {"resourceUri": resource_id, "operationName": operation},
    }


def rejection(resource_id: str) -> str:
    events, rejected = parse_events(arm_event(resource_id))
    assert events == [] and len(rejected) == 1, (events, rejected)
    assert rejected[0].field == "data.resourceUri"
    return rejected[0].message


# -- one canonical spelling ------------------------------------------------------------------------------


def test_the_canonical_id_folds_ascii_case_slashes_and_nothing_else() -> None:
    canonical = RID.lower()
    for spelling in (RID, RID + "/", RID.replace("resourceGroups", "resourcegroups"), RID.upper(), f" {RID}\n"):
        assert normalize_id(spelling) == canonical
    assert normalize_id(RID.replace("/providers/", "//providers/")) == canonical
    assert normalize_id(RID.replace("aoai-a", "aoai-A") + "//") == canonical


@pytest.mark.parametrize("look_alike", LOOK_ALIKES)
def test_a_look_alike_never_takes_the_real_key(look_alike: str) -> None:
    assert normalize_id(look_alike) != normalize_id(RID)
    assert not same_id(look_alike, RID)


def test_the_kelvin_sign_is_not_folded_to_k() -> None:
    """str.lower() maps U+212A to `k`: a lock key built with it would join the real account's."""
    assert KELVIN.lower() == "k"  # the trap
    assert normalize_id(RID.replace("aoai-a", f"aoai-{KELVIN}")) != normalize_id(RID.replace("aoai-a", "aoai-k"))


# -- the account an id is under --------------------------------------------------------------------------


@pytest.mark.parametrize("look_alike", LOOK_ALIKES)
def test_a_look_alike_is_under_no_account(look_alike: str) -> None:
    assert account_id_of(look_alike) is None
    assert account_id_of(look_alike + "/deployments/chat") is None


@pytest.mark.parametrize("name", [".", "..", "-a", "a", "a" * 65, "aoai%2Da", "aoai a", "aoai?x", "_a"])
def test_an_account_name_arm_forbids_is_under_no_account(name: str) -> None:
    assert account_id_of(RID.replace("aoai-a", name)) is None
    assert account_id_of(RID.replace("aoai-a", name) + "/deployments/chat") is None
    with pytest.raises(ValueError, match=r"naming rule|segment|not a Cognitive Services account id"):
        parse_account_id(RID.replace("aoai-a", name))


@pytest.mark.parametrize("group", [".", "..", "rg.", "r/g", "r%2Fg", "a" * 91, "r\u00e9g"])
def test_a_resource_group_arm_forbids_is_under_no_account(group: str) -> None:
    assert account_id_of(RID.replace("ai-prod", group)) is None


def test_valid_ids_keep_their_spelling() -> None:
    assert account_id_of(RID) == RID
    assert account_id_of(RID.lower() + "/raiPolicies/p1") == RID.lower()
    assert account_id_of(RID + "/providers/Microsoft.Authorization/roleAssignments/x") == RID
    edge = RID.replace("ai-prod", "a(b)_c.d-" + "e" * 81).replace("aoai-a", "A" + "b_.-" * 15 + "xyz")
    assert account_id_of(edge) == edge
    assert parse_account_id(edge + "/") == (SUB, "a(b)_c.d-" + "e" * 81, "A" + "b_.-" * 15 + "xyz")


# -- intake rejects, naming the field and the rule --------------------------------------------------------


@pytest.mark.parametrize("look_alike", LOOK_ALIKES)
def test_intake_rejects_a_look_alike_naming_the_character(look_alike: str) -> None:
    message = rejection(look_alike)
    assert "data.resourceUri is not ASCII" in message and "U+017F" in message and "ASCII ids only" in message


@pytest.mark.parametrize(
    ("resource_id", "rule"),
    [
        (RID.replace("aoai-a", ".."), "'.' or '..' segment"),
        (RID.replace("ai-prod", "."), "'.' or '..' segment"),
        (RID + "/deployments/..", "'.' or '..' segment"),
        (RID.replace("ai-prod", "ai-prod."), "resource group 'ai-prod.', which breaks ARM's naming rule"),
        (RID.replace("aoai-a", "-a"), "account '-a', which breaks ARM's naming rule (a Cognitive Services account"),
        (RID.replace("aoai-a", "aoai%2Da"), "account 'aoai%2Da', which breaks"),
        (RID.replace(SUB, "not-a-guid"), "subscription 'not-a-guid', which breaks ARM's naming rule (a subscription"),
        (RID + "/raiPolicies/-p", "RAI policy '-p', which breaks"),
        (RID.replace("/providers", "//providers"), "empty segment"),
        (RID.replace("aoai-a", "aoai\x00a"), "control character U+0000"),
        ("aoai-a", "not an ARM resource id"),
    ],
)
def test_intake_rejects_names_arm_forbids(resource_id: str, rule: str) -> None:
    assert rule in rejection(resource_id)


def test_intake_checks_names_under_an_extension_scope_too() -> None:
    scoped = f"{RID.replace('aoai-a', '..')}/providers/Microsoft.Authorization/roleAssignments/x"
    assert "'.' or '..' segment" in rejection(scoped)
    scoped = f"{RID.replace('aoai-a', '-x')}/providers/Microsoft.Authorization/roleAssignments/x"
    assert "account '-x', which breaks" in rejection(scoped)


def test_intake_keeps_valid_ids_as_given() -> None:
    for resource_id in (RID, RID.lower(), RID + "/deployments/gpt-4o", RID + "/raiPolicies/custom.policy_1"):
        (event,), rejected = parse_events(arm_event(resource_id))
        assert rejected == [] and event.resource_id == resource_id and event.subscription_id == SUB
    (event,), _ = parse_events(arm_event(RID + "/"))
    assert event.resource_id == RID


def test_other_providers_ids_need_only_be_well_formed() -> None:
    """Warden never reads or changes them (routing drops them): the upstream examples' placeholders pass."""
    storage = "/subscriptions/{subscription-id}/resourceGroups/{resource-group}/providers/Microsoft.Storage/x/{y}"
    (event,), rejected = parse_events(arm_event(storage, "Microsoft.Storage/storageAccounts/write"))
    assert rejected == [] and event.resource_id == storage
    assert "'.' or '..' segment" in rejection(storage.replace("{y}", ".."))
    assert "not ASCII" in rejection(storage.replace("{y}", f"{LONG_S}"))


# -- routing matches ASCII case only ---------------------------------------------------------------------


def routed(operation: str) -> frozenset[str]:
    event = ResourceEvent(
        event_id="e",
        event_type="Microsoft.Resources.ResourceActionSuccess",
        schema=EventSchema.EVENT_GRID,
        resource_id=RID,
        operation_name=operation,
        subscription_id=SUB,
        tenant_id="",
        correlation_id="",
        caller=Caller(),
        event_time=None,
    )
    return controls_for(event)


def test_routing_folds_ascii_case_only() -> None:
    assert routed("MICROSOFT.COGNITIVESERVICES/ACCOUNTS/LISTKEYS/ACTION")
    # str.lower() turns the Kelvin sign into `k`, so this look-alike used to route like listKeys.
    assert not routed(f"Microsoft.CognitiveServices/accounts/list{KELVIN}eys/action")
    assert not routed(f"Micro{LONG_S}oft.CognitiveServices/accounts/write")
    assert is_relevant_event_type("MICROSOFT.RESOURCES.RESOURCEWRITESUCCESS")
    assert not is_relevant_event_type(f"Microsoft.Resources.ResourceWrite{LONG_S}uccess")
