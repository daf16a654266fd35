"""Model helpers: id comparison and the account an id belongs to."""

from __future__ import annotations

from warden.model import account_id_of, same_id

SUB = "00000000-0000-0000-0000-000000000000"
RID = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/aoai-1"


def test_account_id_of_child_and_extension_resources() -> None:
    assert account_id_of(RID) == RID
    assert account_id_of(RID.lower() + "/deployments/gpt-4o") == RID.lower()
    assert account_id_of(RID + "/providers/Microsoft.Authorization/roleAssignments/x") == RID
    assert account_id_of("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a") is None
    assert account_id_of("/subscriptions/s/resourceGroups/rg") is None


def test_same_id_ignores_case_and_trailing_slash() -> None:
    assert same_id(RID, RID.replace("resourceGroups", "resourcegroups") + "/")
    assert not same_id(RID, RID + "b")
