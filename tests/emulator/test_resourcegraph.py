"""Resource Graph in the emulator through the real ResourceGraphClient: warden's drift query over accounts in two
subscriptions, $skipToken paging, scopes, the table format, the frozen view, and 400s naming what a query uses
that the emulator's KQL subset does not have."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

from emulator import Emulator
from emulator.access_builders import management_group
from tests.emulator.conftest import BEARER, OTHER_SUB, SUB, account_id, deployment, openai_account, raw
from warden.azure.credentials import StaticTokenCredential

API = "2024-04-01"
PATH = "/providers/Microsoft.ResourceGraph/resources"
ACCOUNTS = "microsoft.cognitiveservices/accounts"
DRIFT = (
    "Resources\n"
    f"| where type =~ '{ACCOUNTS}'\n"
    "| where kind in~ ('OpenAI', 'AIServices')\n"
    "| where (tostring(properties.publicNetworkAccess) !~ 'Disabled') or (tostring(properties.disableLocalAuth) !~ "
    "'true') or (tostring(properties.restrictOutboundNetworkAccess) !~ 'true' or "
    "array_length(properties.allowedFqdnList) > 0)\n"
    "| project id, name, type, kind, location, properties = bag_pack('publicNetworkAccess', "
    "properties.publicNetworkAccess, 'networkAcls', properties.networkAcls, 'disableLocalAuth', "
    "properties.disableLocalAuth)\n"
    "| order by id asc"
)
OPENAI_ONLY = f"Resources | where type =~ '{ACCOUNTS}' and kind =~ 'openai' | project id, name | order by id asc"


def _compliant(name: str, sub: str = SUB, kind: str = "OpenAI", **changes: Any) -> dict[str, Any]:
    """An account every DRIFT predicate passes, then `changes` (None drops the property)."""
    account = openai_account(
        name,
        sub=sub,
        publicNetworkAccess="Disabled",
        disableLocalAuth=True,
        restrictOutboundNetworkAccess=True,
        allowedFqdnList=[],
    )
    account["kind"] = kind
    for key, value in changes.items():
        if value is None:
            account["properties"].pop(key)
        else:
            account["properties"][key] = value
    return account


def _scenario() -> dict[str, Any]:
    return {
        "resources": [
            openai_account("a1-open"),  # public access and local auth on
            _compliant("a2-fine"),
            _compliant("a3-ais", kind="AIServices", disableLocalAuth=None),  # missing: drifted
            _compliant("a7-outbound", restrictOutboundNetworkAccess=None),
            _compliant("a4-nopublic", sub=OTHER_SUB, publicNetworkAccess=None),
            _compliant("a5-fqdn", sub=OTHER_SUB, allowedFqdnList=["example.com"]),
            {**openai_account("a6-text", sub=OTHER_SUB), "kind": "TextAnalytics"},  # not an OpenAI kind
            deployment("a1-open", "chat"),  # another type
            management_group("mg-other", [OTHER_SUB]),
        ]
    }


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(_scenario()) as emulator:
        yield emulator


def _client(emu: Emulator) -> ResourceGraphClient:
    return ResourceGraphClient(
        StaticTokenCredential(),
        base_url=emu.endpoint,
        connection_verify=emu.ca_path,
        retry_backoff_factor=0.01,
        retry_backoff_max=1,
    )


def _ask(emu: Emulator, query: str, api: str | None = API, **request: Any) -> Any:
    options = request.pop("options", None)
    body = QueryRequest(query=query, options=QueryRequestOptions(**options) if options else None, **request)
    client = _client(emu)
    return client.resources(body, api_version=api) if api else client.resources(body)


def _post(emu: Emulator, body: dict[str, Any]) -> Any:
    return raw(emu, "POST", PATH, params={"api-version": API}, headers=BEARER, json=body)


def test_the_drift_query_returns_drifted_openai_accounts_of_both_subscriptions(emu: Emulator) -> None:
    found = _ask(emu, DRIFT, subscriptions=[SUB, OTHER_SUB])
    assert [row["name"] for row in found.data] == ["a1-open", "a3-ais", "a7-outbound", "a4-nopublic", "a5-fqdn"]
    assert (found.total_records, found.count, found.result_truncated, found.skip_token) == (5, 5, "false", None)
    first = found.data[0]
    assert first["id"] == account_id("a1-open") and first["type"] == ACCOUNTS
    assert set(first) == {"id", "name", "type", "kind", "location", "properties"}
    assert first["properties"]["publicNetworkAccess"] == "Enabled"
    assert first["properties"]["networkAcls"]["defaultAction"] == "Allow"
    # A missing member is null in bag_pack, and tostring(null) is "" (so `!~ 'true'` holds: drifted).
    assert found.data[1]["properties"] == {
        "publicNetworkAccess": "Disabled",
        "networkAcls": openai_account("x")["properties"]["networkAcls"],
        "disableLocalAuth": None,
    }


def test_the_sdk_default_api_version_and_no_scope_reach_every_subscription(emu: Emulator) -> None:
    found = _ask(emu, DRIFT, api=None)
    assert found.total_records == 5
    assert emu.requests[-1].query["api-version"] == "2021-03-01"


def test_subscriptions_and_management_groups_scope_the_rows(emu: Emulator) -> None:
    other = _ask(emu, "Resources | project id, name, subscriptionId, resourceGroup", subscriptions=[OTHER_SUB])
    assert {row["subscriptionId"] for row in other.data} == {OTHER_SUB}
    assert {row["resourceGroup"] for row in other.data} == {"rg-ai"}
    assert sorted(row["name"] for row in other.data) == ["a4-nopublic", "a5-fqdn", "a6-text"]
    grouped = _ask(emu, "Resources | project id, name", management_groups=["mg-other"])
    assert sorted(row["name"] for row in grouped.data) == ["a4-nopublic", "a5-fqdn", "a6-text"]
    # The management group resource itself and the deployment are no account; the deployment is a row.
    mine = _ask(emu, "Resources | project id, type", subscriptions=[SUB])
    assert sorted({row["type"] for row in mine.data}) == [ACCOUNTS, f"{ACCOUNTS}/deployments"]


def test_top_2_pages_reach_every_row_once_in_id_order(emu: Emulator) -> None:
    seen: list[str] = []
    token: str | None = None
    sizes = []
    while True:
        options = {"top": 2, "skip_token": token} if token else {"top": 2}
        found = _ask(emu, OPENAI_ONLY, options=options)
        assert found.total_records == 5
        sizes.append(found.count)
        seen += [row["id"] for row in found.data]
        token = found.skip_token
        if token is None:
            break
    assert sizes == [2, 2, 1]
    assert len(seen) == len(set(seen)) == 5
    assert seen == sorted(seen, key=str.lower)


def test_a_row_deleted_between_pages_is_not_served_and_nothing_repeats(emu: Emulator) -> None:
    first = _ask(emu, OPENAI_ONLY, options={"top": 2})
    assert emu.remove_resource(account_id("a7-outbound"))
    rest = _ask(emu, OPENAI_ONLY, options={"top": 10, "skip_token": first.skip_token})
    served = [row["name"] for row in first.data + rest.data]
    assert served == ["a1-open", "a2-fine", "a4-nopublic", "a5-fqdn"]


def test_a_token_is_refused_with_another_query_or_scope(emu: Emulator) -> None:
    token = _ask(emu, OPENAI_ONLY, options={"top": 2}).skip_token
    for body in (
        {"query": OPENAI_ONLY + " | limit 4", "options": {"$skipToken": token}},
        {"query": OPENAI_ONLY, "subscriptions": [SUB], "options": {"$skipToken": token}},
        {"query": OPENAI_ONLY, "options": {"$skipToken": "not-a-token"}},
    ):
        reply = _post(emu, body)
        assert reply.status_code == 400
        error = reply.json()["error"]
        assert error["code"] == "BadRequest" and error["details"][0]["code"] == "InvalidSkipToken"
    with pytest.raises(HttpResponseError) as caught:
        _ask(emu, DRIFT, options={"skip_token": token})
    assert caught.value.status_code == 400 and "another query" in str(caught.value)


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("Resources | extend x = 1", "unsupported tabular operator 'extend' at position 12"),
        ("Resources | where name contains 'a'", "unsupported operator 'contains' at position 23"),
        ("Resources | where name !contains 'a'", "unsupported operator '!contains'"),
        ("Resources | where strlen(name) > 3", "unsupported function 'strlen' at position 18"),
        ("ResourceContainers | limit 1", "unknown table 'ResourceContainers' at position 0"),
        ("Resources | where nmae == 'x'", "unknown column 'nmae' at position 18"),
        ("Resources | project id | where kind == 'x'", "unknown column 'kind'"),
        ("Resources | where name == 'x", "unterminated string literal starting at position 26"),
        ("Resources | where name = 'x'", "unexpected '=' at position 23"),
        ("Resources | summarize max(name)", "unsupported aggregation 'max'"),
        ("Resources | where (name == 'x'", "expected ')' but found the end of the query"),
        ("Resources | project bag_pack('a')", "wrong number of arguments (1) to bag_pack()"),
    ],
)
def test_a_query_outside_the_subset_is_a_400_naming_what_and_where(emu: Emulator, query: str, named: str) -> None:
    reply = _post(emu, {"query": query})
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["code"] == "BadRequest"
    assert error["details"][0]["code"] == "InvalidQuery"
    assert named in error["details"][0]["message"] and named in error["message"]


def test_the_sdk_sees_the_unsupported_part_in_its_error(emu: Emulator) -> None:
    with pytest.raises(HttpResponseError) as caught:
        _ask(emu, "Resources | where name has 'x'")
    assert caught.value.status_code == 400 and "unsupported operator 'has'" in str(caught.value)


@pytest.mark.parametrize(
    "body",
    [{}, {"query": ""}, {"query": "Resources", "options": {"$top": 0}}, {"query": "Resources", "subscriptions": "x"}],
)
def test_a_missing_query_or_a_bad_option_is_a_400(emu: Emulator, body: dict[str, Any]) -> None:
    assert _post(emu, body).status_code == 400


def test_an_unsupported_api_version_is_refused(emu: Emulator) -> None:
    reply = raw(emu, "POST", PATH, params={"api-version": "2019-04-01"}, json={"query": "Resources"})
    assert reply.status_code == 400 and reply.json()["error"]["code"] == "InvalidApiVersionParameter"


def test_the_table_format(emu: Emulator) -> None:
    query = f"Resources | where type =~ '{ACCOUNTS}' | project id, name, n = array_length(properties.allowedFqdnList)"
    found = _ask(emu, query + " | order by id asc | take 2", options={"result_format": "table"})
    assert found.data["columns"] == [
        {"name": "id", "type": "string"},
        {"name": "name", "type": "string"},
        {"name": "n", "type": "integer"},
    ]
    assert found.data["rows"] == [[account_id("a1-open"), "a1-open", None], [account_id("a2-fine"), "a2-fine", 0]]


def test_summarize_counts_by_subscription(emu: Emulator) -> None:
    found = _ask(emu, f"Resources | where type =~ '{ACCOUNTS}' | summarize count() by subscriptionId")
    assert found.data == [{"subscriptionId": SUB, "count": 4}, {"subscriptionId": OTHER_SUB, "count": 3}]
    assert _ask(emu, "Resources | where name == 'none' | summarize count()").data == [{"count": 0}]


@pytest.mark.parametrize(
    ("where", "names"),
    [
        ("properties.nope == 'x'", []),  # a null operand makes any comparison false
        ("properties.nope != 'x'", []),
        ("isnull(properties.disableLocalAuth)", ["a3-ais"]),
        ("tostring(properties.disableLocalAuth) == 'false'", ["a1-open"]),
        ("properties.disableLocalAuth == true", ["a2-fine", "a7-outbound"]),
        ("name in ('A1-OPEN', 'a2-fine')", ["a2-fine"]),
        ("name in~ ('A1-OPEN', 'a2-fine')", ["a1-open", "a2-fine"]),
        ("name !in~ ('A1-OPEN', 'a2-fine') and kind == 'OpenAI'", ["a7-outbound"]),
        ("not(tobool(properties.restrictOutboundNetworkAccess))", ["a1-open"]),
        ("properties['customSubDomainName'] == 'a2-fine'", ["a2-fine"]),
        (
            "array_length(properties.allowedFqdnList) >= 0 and isnotempty(coalesce(properties.x, name))",
            ["a2-fine", "a3-ais", "a7-outbound"],
        ),
        ("tolower(toupper(kind)) == 'aiservices'", ["a3-ais"]),
    ],
)
def test_kusto_semantics(emu: Emulator, where: str, names: list[str]) -> None:
    query = f"Resources | where type =~ '{ACCOUNTS}' | where {where} | project id, name | order by id asc"
    assert [row["name"] for row in _ask(emu, query, subscriptions=[SUB]).data] == names


def test_rows_without_an_id_are_one_truncated_page(emu: Emulator) -> None:
    found = _ask(emu, "Resources | project name | order by name desc", options={"top": 2})
    assert (found.count, found.total_records, found.result_truncated, found.skip_token) == (2, 8, "true", None)
    assert [row["name"] for row in found.data] == ["chat", "a7-outbound"]


def test_a_frozen_graph_keeps_answering_the_old_view_until_thawed(emu: Emulator) -> None:
    emu.freeze_graph()
    assert emu.remove_resource(account_id("a1-open"))
    arm = CognitiveServicesManagementClient(
        StaticTokenCredential(), SUB, base_url=emu.endpoint, connection_verify=emu.ca_path
    )
    arm.accounts.begin_update("rg-ai", "a3-ais", {"properties": {"disableLocalAuth": True}}).result()
    assert arm.accounts.get("rg-ai", "a3-ais").properties.disable_local_auth is True
    frozen = [row["name"] for row in _ask(emu, DRIFT, subscriptions=[SUB]).data]
    assert frozen == ["a1-open", "a3-ais", "a7-outbound"]
    emu.thaw_graph()
    assert [row["name"] for row in _ask(emu, DRIFT, subscriptions=[SUB]).data] == ["a7-outbound"]


def test_deleted_accounts_list_pages_only_the_subscriptions_own(emu: Emulator) -> None:
    emu.set_options(page_size=2)
    for sub, names in ((SUB, ["a1-open", "a2-fine", "a3-ais"]), (OTHER_SUB, ["a4-nopublic"])):
        client = CognitiveServicesManagementClient(
            StaticTokenCredential(), sub, base_url=emu.endpoint, connection_verify=emu.ca_path
        )
        for name in names:
            client.accounts.begin_delete("rg-ai", name).result()
    emu.clear_requests()
    mine = CognitiveServicesManagementClient(
        StaticTokenCredential(), SUB, base_url=emu.endpoint, connection_verify=emu.ca_path
    )
    assert [a.name for a in mine.deleted_accounts.list()] == ["a1-open", "a2-fine", "a3-ais"]
    assert len(emu.requests) == 2
