"""The Cognitive Services adapter's own rules: account ids, and the token audience of sovereign clouds."""

from __future__ import annotations

from typing import Any

import pytest
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

from warden.azure.clients import ClientFactory
from warden.azure.cognitive import parse_account_id


class RecordingCredential:
    """Records the scopes a client asks a token for, then stops the request."""

    def __init__(self) -> None:
        self.scopes: tuple[str, ...] = ()

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        self.scopes = scopes
        raise RuntimeError("token requested")


@pytest.mark.parametrize(
    ("endpoint", "scope"),
    [
        ("https://management.azure.com", "https://management.azure.com/.default"),
        ("https://management.usgovcloudapi.net/", "https://management.usgovcloudapi.net/.default"),
    ],
)
def test_the_token_audience_follows_the_endpoint(endpoint: str, scope: str) -> None:
    credential = RecordingCredential()
    factory = ClientFactory(credential, base_url=endpoint)  # type: ignore[arg-type]
    client = factory.arm(CognitiveServicesManagementClient, "00000000-0000-0000-0000-000000000000")
    with pytest.raises(RuntimeError, match="token requested"):
        client.accounts.get("rg", "a")
    assert credential.scopes == (scope,)


def test_account_ids_parse_case_insensitively_and_refuse_children() -> None:
    sub = "6A1F3C2E-8D4B-4F7A-9C0E-2B5D7E9F1A3C"
    rid = f"/subscriptions/{sub}/resourcegroups/RG/providers/microsoft.cognitiveservices/accounts/A1/"
    assert parse_account_id(rid) == (sub, "RG", "A1")
    with pytest.raises(ValueError, match="not a Cognitive Services account id"):
        parse_account_id(
            f"/subscriptions/{sub}/resourceGroups/RG/providers/Microsoft.CognitiveServices/accounts/A1/deployments/d"
        )
