"""What infra/ grants, delivers and sets is derived, never typed twice: the custom role is the controls' permission
union, the Event Grid filters are the routing table, and the app settings are the ones warden/settings.py reads."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from detectors import CONTROLS
from tests.infra.app_settings import SAMPLES, bicep_app_settings, deployed_environment
from tests.infra.bicep import INFRA, REPO, bicep_files, fields, find_properties, items, parse, resources, string_value
from warden import permissions
from warden.azure.eventgrid import event_items, parse_item
from warden.infra_files import GENERATED_BY, MAX_FILTER_VALUES, stale
from warden.model import ResourceEvent
from warden.routing import controls_for, is_relevant_event_type
from warden.settings import APP_SETTINGS, HOST_SETTINGS, load_settings

GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
#: The one role GUID the Bicep may spell out: Event Grid's own identity writes dead letters with it (it is not
#: warden's identity, so warden/permissions.py does not declare it).
DEAD_LETTER_ROLE = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((INFRA / name).read_text(encoding="utf-8"))
    return loaded


def _files_mentioning(text: str) -> list[Path]:
    return [p for p in bicep_files() if text in p.read_text(encoding="utf-8")]


# --- the custom role == the controls' permissions ---------------------------------------------------------------


def test_generated_files_match_the_declarations() -> None:
    assert stale(INFRA) == [], f"run `{GENERATED_BY}` and commit the result"


def test_the_custom_role_is_exactly_the_union_of_the_controls_permissions() -> None:
    role = _load("permissions.json")["customRole"]
    union = {p for control in CONTROLS for p in control.permissions}
    assert set(role["actions"]) | set(role["dataActions"]) == union
    assert not set(role["actions"]) & set(role["dataActions"])
    assert all("*" not in p for p in union), "a wildcard grants more than any control declares"
    # Data-plane operations go under dataActions, where Azure RBAC looks for them.
    assert {p for p in role["dataActions"] if "/OpenAI/" in p} == {
        "Microsoft.CognitiveServices/accounts/OpenAI/files/read",
        "Microsoft.CognitiveServices/accounts/OpenAI/files/delete",
        "Microsoft.CognitiveServices/accounts/OpenAI/fine-tunes/read",
    }
    assert "Microsoft.CognitiveServices/accounts/listKeys/action" not in union, "warden never reads a key"


def test_the_bicep_role_definition_takes_its_permissions_from_the_generated_file() -> None:
    definitions = [
        (path, body)
        for path in bicep_files()
        for _, body in resources(parse(path), "Microsoft.Authorization/roleDefinitions@")
    ]
    assert len(definitions) == 1, f"one custom role definition, found {len(definitions)}"
    path, body = definitions[0]
    (block,) = find_properties(body, "permissions")
    (entry,) = items(block)
    values = {name: value.text.decode() for name, value in fields(entry).items()}
    assert values["actions"].endswith("customRole.actions") and values["dataActions"].endswith("customRole.dataActions")
    assert values["notActions"] == "[]" and values["notDataActions"] == "[]"
    assert "loadJsonContent(" in path.read_text() and "permissions.json')" in path.read_text()


def test_the_runtime_roles_come_from_the_generated_file_and_no_other_role_is_spelt_out() -> None:
    assert _files_mentioning("permissions.storageRoles") and _files_mentioning("permissions.appInsightsRoles")
    generated = _load("permissions.json")
    assert [r["id"] for r in generated["storageRoles"]] == [r.id for r in permissions.STORAGE_ROLES]
    spelt_out = {g.lower() for path in bicep_files() for g in GUID.findall(path.read_text(encoding="utf-8"))}
    assert spelt_out <= {DEAD_LETTER_ROLE}, f"role ids typed into the Bicep: {sorted(spelt_out - {DEAD_LETTER_ROLE})}"


# --- the Event Grid filters == the routing table ------------------------------------------------------------------


def _delivered(filters: Mapping[str, Any], item: Mapping[str, Any]) -> bool:
    """Event Grid's filter on a subscription's system topic, as the generated event subscriptions declare it: the
    event type is included and `data.operationName` is in the StringIn values (string comparisons ignore case)."""
    event_type = str(item.get("eventType", item.get("type", ""))).lower()
    operation = str((item.get("data") or {}).get("operationName", "")).lower()
    return any(
        event_type in {t.lower() for t in sub["includedEventTypes"]}
        and operation in {v.lower() for v in sub["operationNames"]}
        for sub in filters["subscriptionEvents"]
    )


def _arm_fixture_items() -> list[dict[str, Any]]:
    folder = REPO / "tests/fixtures/reference/eventgrid"
    items: list[dict[str, Any]] = []
    for path in sorted(folder.rglob("*.json")):
        for item in event_items(path.read_text(encoding="utf-8")):
            if isinstance(item, dict) and str(item.get("eventType", item.get("type", ""))).startswith(
                "Microsoft.Resources."
            ):
                items.append(item)
    return items


def _routed(item: Mapping[str, Any]) -> bool:
    event = parse_item(dict(item))
    return isinstance(event, ResourceEvent) and is_relevant_event_type(event.event_type) and bool(controls_for(event))


def test_every_routed_arm_operation_is_delivered_and_nothing_else() -> None:
    filters = _load("event-filters.json")
    routes = [r for c in CONTROLS for r in c.routes if r.event_type.startswith("Microsoft.Resources.")]
    for route in routes:
        item = {"eventType": route.event_type, "data": {"operationName": route.operation.upper()}}
        assert _delivered(filters, item), f"{route.event_type} {route.operation} is routed but never delivered"
    listed = {v for sub in filters["subscriptionEvents"] for v in sub["operationNames"]}
    assert listed == {r.operation for r in routes}, "an operation is delivered that no control routes"
    assert {t for sub in filters["subscriptionEvents"] for t in sub["includedEventTypes"]} == {
        r.event_type for r in routes
    }
    assert all(len(sub["operationNames"]) <= MAX_FILTER_VALUES for sub in filters["subscriptionEvents"])
    for not_routed in (
        {
            "eventType": "Microsoft.Resources.ResourceWriteFailure",
            "data": {"operationName": "Microsoft.CognitiveServices/accounts/write"},
        },
        {
            "eventType": "Microsoft.Resources.ResourceWriteSuccess",
            "data": {"operationName": "Microsoft.Storage/storageAccounts/write"},
        },
        {
            "eventType": "Microsoft.Resources.ResourceDeleteSuccess",
            "data": {"operationName": "Microsoft.CognitiveServices/accounts/delete"},
        },
    ):
        assert not _delivered(filters, not_routed)


def test_real_payloads_are_delivered_exactly_when_a_control_routes_them() -> None:
    filters = _load("event-filters.json")
    items = _arm_fixture_items()
    assert len(items) >= 8
    mismatched = [
        (item.get("eventType", item.get("type")), item["data"].get("operationName"))
        for item in items
        if _delivered(filters, item) != _routed(item)
    ]
    assert mismatched == []
    assert any(_delivered(filters, item) for item in items) and not all(_delivered(filters, item) for item in items)


def test_key_vault_topics_get_exactly_the_routed_key_events() -> None:
    routed = {r.event_type for c in CONTROLS for r in c.routes if r.event_type.startswith("Microsoft.KeyVault.")}
    assert set(_load("event-filters.json")["keyVaultEventTypes"]) == routed


def test_the_event_subscriptions_in_the_bicep_use_the_generated_filters() -> None:
    (events,) = [p for p in bicep_files() if "event-filters.json" in p.read_text(encoding="utf-8")]
    texts = [p.read_text(encoding="utf-8") for p in bicep_files()]
    joined = "\n".join(texts)
    assert ".subscriptionEvents" in joined and ".keyVaultEventTypes" in joined and ".operationNames" in joined
    filters = [f for path in bicep_files() for f in find_properties(parse(path), "advancedFilters")]
    assert filters, "no event subscription filters on data.operationName"
    for block in filters:
        (entry,) = items(block)
        values = fields(entry)
        assert (
            string_value(values["key"]) == "data.operationName" and string_value(values["operatorType"]) == "StringIn"
        )
        assert values["values"].text.decode().endswith(".operationNames")
    topic_types = {string_value(v) for path in bicep_files() for v in find_properties(parse(path), "topicType")}
    assert topic_types == {"Microsoft.Resources.Subscriptions", "Microsoft.KeyVault.vaults"}
    assert (
        "/functions/resource_event" in joined
        and '@app.function_name("resource_event")' in (REPO / "function_app.py").read_text()
    )
    assert events.name == "events.bicep" or events.parent.name == "events"


# --- the app settings == what warden/settings.py reads -------------------------------------------------------------


class _Recording(dict[str, str]):
    """An environment that remembers every name looked up in it."""

    def __init__(self, values: Mapping[str, str]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.read.add(str(key))
        return super().__contains__(key)


def test_every_setting_read_by_the_code_is_declared() -> None:
    azure = _Recording({**SAMPLES, "WEBSITE_INSTANCE_ID": "abc"})
    load_settings(azure, base_dir=REPO)
    local = _Recording(
        {"WARDEN_AUDIT_CONNECTION_STRING": "UseDevelopmentStorage=true", "WARDEN_SWEEP_QUEUE": "warden-sweep"}
    )
    load_settings(local, base_dir=REPO)
    assert azure.read | local.read == set(APP_SETTINGS)


def test_the_bicep_sets_exactly_the_azure_settings_and_the_hosts() -> None:
    names = set(bicep_app_settings())
    azure = {name for name, where in APP_SETTINGS.items() if where == "azure"}
    assert names - azure - HOST_SETTINGS == set(), "set by the Bicep but read by nothing"
    assert azure - names == set(), "read by warden in Azure but never set by the Bicep"
    assert HOST_SETTINGS - names == set()
    local = {name for name, where in APP_SETTINGS.items() if where != "azure"}
    leaked = {name for name in local for path in bicep_files() if name in path.read_text(encoding="utf-8")}
    assert leaked == set(), "development-only settings in the deployment"


def test_the_bicep_settings_pass_the_codes_validation_as_hosted_in_azure() -> None:
    settings = bicep_app_settings()
    env = deployed_environment()
    unresolved = [n for n, v in settings.items() if v is None and n not in SAMPLES and n not in HOST_SETTINGS]
    assert unresolved == []
    loaded = load_settings({**env, "WEBSITE_INSTANCE_ID": "abc"}, base_dir=REPO)
    assert (
        loaded.sweep_queue == settings["WARDEN_SWEEP_QUEUE"]
        and loaded.audit_container == settings["WARDEN_AUDIT_CONTAINER"]
    )
    assert loaded.credential == "default" and loaded.baseline_path == REPO / "baseline.yaml"


def test_the_readme_documents_every_setting() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([A-Za-z_]+)` \|", readme, re.MULTILINE))
    assert documented == {name for name, where in APP_SETTINGS.items() if where != "platform"}


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: str(p.relative_to(INFRA)))
def test_every_bicep_file_parses(path: Path) -> None:
    from tests.infra.bicep import problems

    assert problems(parse(path), path) == []


def test_the_templates_exist() -> None:
    assert {p.name for p in bicep_files()} >= {"main.bicep", "events.bicep"}
    assert (REPO / "azure.yaml").is_file() and (INFRA / "main.parameters.json").is_file()
