"""Diagnostic categories per target resource type, and the category resources the categories routes serve.

EMULATOR ASSUMPTION: the table below is not in the vendored references. The Cognitive Services account
categories (Audit, RequestResponse, Trace, AzureOpenAIRequestUsage; AllMetrics) and their category groups
(`audit` and `allLogs` for Audit, `allLogs` for the rest) are what the emulator assumes Azure Monitor lists for
an Azure OpenAI account; the vendored spec only shows the shape (listDiagnosticSettingsCategories.json). A type
with no row accepts any category and lists none (docs/emulator.md, "Diagnostic settings").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .versions import CATEGORIES_TYPE


@dataclass(frozen=True)
class Category:
    """One diagnostic category: `Logs` (with the category groups it belongs to) or `Metrics`."""

    name: str
    category_type: str
    groups: tuple[str, ...] = ()

    def resource(self, target_id: str) -> dict[str, Any]:
        """As the upstream listDiagnosticSettingsCategories example shows it (metrics carry no categoryGroups)."""
        props: dict[str, Any] = {"categoryType": self.category_type}
        if self.category_type == "Logs":
            props["categoryGroups"] = list(self.groups)
        return {
            "id": f"{target_id}/providers/microsoft.insights/diagnosticSettingsCategories/{self.name}",
            "type": CATEGORIES_TYPE,
            "name": self.name,
            "properties": props,
        }


_ALL = ("allLogs",)
# Resource type (lower case) -> its categories. See the module docstring: an assumption, not a reference.
TABLE: Mapping[str, tuple[Category, ...]] = {
    "microsoft.cognitiveservices/accounts": (
        Category("Audit", "Logs", ("audit", "allLogs")),
        Category("RequestResponse", "Logs", _ALL),
        Category("Trace", "Logs", _ALL),
        Category("AzureOpenAIRequestUsage", "Logs", _ALL),
        Category("AllMetrics", "Metrics"),
    ),
}


@dataclass(frozen=True)
class Catalog:
    """The categories of one target resource type; `known` is False for a type with no row in TABLE."""

    categories: tuple[Category, ...]
    known: bool

    @classmethod
    def for_type(cls, resource_type: str) -> Catalog:
        found = TABLE.get(resource_type.lower())
        return cls(found or (), found is not None)

    def find(self, name: str, category_type: str | None = None) -> Category | None:
        """The category of that name (compared case-insensitively), of `category_type` when given."""
        return next(
            (
                c
                for c in self.categories
                if c.name.lower() == name.lower() and (category_type is None or c.category_type == category_type)
            ),
            None,
        )

    def groups(self) -> frozenset[str]:
        """Every log category group (lower case) some category of this type belongs to."""
        return frozenset(g.lower() for c in self.categories for g in c.groups)

    def in_group(self, group: str) -> frozenset[str]:
        """The log categories (lower case) a category group expands to."""
        return frozenset(c.name.lower() for c in self.categories if group.lower() in (g.lower() for g in c.groups))
