"""What a diagnostic setting PUT must satisfy beyond its swagger: known categories for a known resource type,
at most five settings per resource, and no destination fed the same log category by two settings.

The limit of five is Azure's (the create-diagnostic-settings article, read but not vendored); the other two
rules, their status codes and messages are the emulator's (docs/emulator.md, "Diagnostic settings").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .categories import Catalog
from .errors import InsightsError, bad_request

MAX_SETTINGS = 5
# Destinations a setting sends to; the event hub is its authorization rule and hub name together.
_SINKS = ("workspaceId", "storageAccountId", "marketplacePartnerId")


def _entries(props: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    found = props.get(key)
    return [e for e in found if isinstance(e, Mapping)] if isinstance(found, list) else []


def _text(entry: Mapping[str, Any], key: str) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) and value else None


def check_categories(catalog: Catalog, resource_type: str, props: Mapping[str, Any]) -> None:
    """400 for a log entry naming neither a category nor a group (any type), and, for a type in the
    category table, for a category group, log category or metric category the type does not have."""
    for i, entry in enumerate(_entries(props, "logs")):
        category, group = _text(entry, "category"), _text(entry, "categoryGroup")
        if category is None and group is None:
            raise bad_request(f"properties.logs[{i}] names neither a category nor a categoryGroup.")
        if not catalog.known:
            continue
        if group is not None and group.lower() not in catalog.groups():
            supported = ", ".join(sorted({g for c in catalog.categories for g in c.groups}))
            raise bad_request(
                f"Category group '{group}' (properties.logs[{i}].categoryGroup) is not supported for resource type "
                f"'{resource_type}'. Supported category groups: {supported}."
            )
        if category is not None and catalog.find(category, "Logs") is None:
            raise bad_request(_unsupported(catalog, resource_type, category, f"logs[{i}]", "Logs"))
    for i, entry in enumerate(_entries(props, "metrics")):
        category = _text(entry, "category")
        if catalog.known and category is not None and catalog.find(category, "Metrics") is None:
            raise bad_request(_unsupported(catalog, resource_type, category, f"metrics[{i}]", "Metrics"))


def _unsupported(catalog: Catalog, resource_type: str, category: str, where: str, kind: str) -> str:
    supported = ", ".join(c.name for c in catalog.categories if c.category_type == kind)
    return (
        f"Category '{category}' (properties.{where}.category) is not supported for resource type "
        f"'{resource_type}'. Supported {kind.lower()} categories: {supported}."
    )


def check_limit(others: Sequence[Mapping[str, Any]], resource_id: str) -> None:
    """400 when a new setting would be the resource's sixth (`others`: its settings but the one written)."""
    if len(others) >= MAX_SETTINGS:
        raise bad_request(
            f"The resource '{resource_id}' already has {len(others)} diagnostic settings; "
            f"at most {MAX_SETTINGS} are allowed per resource."
        )


def sinks(props: Mapping[str, Any]) -> set[str]:
    """The destinations a setting sends to, lower case (empty strings, as the upstream examples send for
    `workspaceId`, are no destination)."""
    found = {str(props[k]).lower() for k in _SINKS if isinstance(props.get(k), str) and props[k]}
    rule = props.get("eventHubAuthorizationRuleId")
    if isinstance(rule, str) and rule:
        hub = props.get("eventHubName")
        found.add(f"{rule.lower()}#{hub.lower() if isinstance(hub, str) else ''}")
    return found


def log_categories(catalog: Catalog, props: Mapping[str, Any]) -> set[str]:
    """The log categories a setting sends, enabled entries only, category groups expanded by the table. For a
    type with no table a group cannot be expanded, so it counts as itself (`allLogs` meets only `allLogs`)."""
    found: set[str] = set()
    for entry in _entries(props, "logs"):
        if entry.get("enabled") is not True:
            continue
        category, group = _text(entry, "category"), _text(entry, "categoryGroup")
        if category is not None:
            found.add(category.lower())
        if group is not None:
            found |= catalog.in_group(group) if catalog.known else {f"group {group.lower()}"}
    return found


def check_sinks(catalog: Catalog, others: Iterable[Mapping[str, Any]], props: Mapping[str, Any]) -> None:
    """409 when another setting of the resource sends one of this setting's log categories to one of its
    destinations: Azure refuses a destination receiving a category twice from one resource."""
    mine, categories = sinks(props), log_categories(catalog, props)
    for other in others:
        theirs = other.get("properties")
        if not isinstance(theirs, Mapping):
            continue
        shared, overlap = mine & sinks(theirs), categories & log_categories(catalog, theirs)
        if shared and overlap:
            first = sorted(overlap)[0]
            known = catalog.find(first)
            raise InsightsError(
                409,
                "Conflict",
                f"Data sink '{sorted(shared)[0]}' is already used in diagnostic setting '{other.get('name')}' for "
                f"category '{known.name if known else first}'. A destination cannot receive the same category from two "
                "diagnostic settings of one resource.",
            )
