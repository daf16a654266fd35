"""Step kind diagnostic-setting.put: create or update the one diagnostic setting warden owns on an account (its
name from the baseline), so the account's audit logs reach the baseline's Log Analytics workspace.

Every other setting of the account is left as it is. An existing setting of warden's name keeps its other
fields (docs/identity.md). Diagnostic settings are not long-running and carry no etag: the PUT's effect is
verified by listing the settings again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from warden.model import Json
from warden.ports import Ports
from warden.steps import Step, Verify


@dataclass(frozen=True)
class PutDiagnosticSetting:
    """PUT `{account}/providers/Microsoft.Insights/diagnosticSettings/{name}`; `target` is that setting's id."""

    kind: ClassVar[str] = "diagnostic-setting.put"
    order: ClassVar[int] = 60
    permissions: ClassVar[tuple[str, ...]] = ("Microsoft.Insights/diagnosticSettings/write",)
    merges: ClassVar[bool] = False
    verify: ClassVar[Verify] = Verify.REREAD

    target: str
    account_id: str
    name: str
    properties: Mapping[str, Json] = field(default_factory=dict)
    before: Mapping[str, Json] | None = None  # the setting of that name as read (None: there was none)
    etag: None = None

    @classmethod
    def of(
        cls, account_id: str, name: str, properties: Mapping[str, Json], before: Mapping[str, Json] | None
    ) -> PutDiagnosticSetting:
        target = f"{account_id}/providers/Microsoft.Insights/diagnosticSettings/{name}"
        return cls(target, account_id, name, properties, before)

    def merge(self, other: Step) -> PutDiagnosticSetting:
        raise TypeError(f"{self.kind} steps do not merge")

    def change(self) -> dict[str, Json]:
        after = {"workspaceId": self.properties.get("workspaceId"), "logs": self.properties.get("logs")}
        before: Json = dict(self.before) if self.before is not None else None
        return {"diagnosticSetting": {"name": self.name, "before": before, "after": after}}

    def to_json(self) -> dict[str, Json]:
        return {
            "kind": self.kind,
            "target": self.target,
            "accountId": self.account_id,
            "name": self.name,
            "properties": dict(self.properties),
            "before": dict(self.before) if self.before is not None else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Json]) -> PutDiagnosticSetting:
        properties, before = data.get("properties"), data.get("before")
        if not isinstance(properties, Mapping):
            raise ValueError(f"a stored {cls.kind} step has no properties: {sorted(data)}")
        kept = dict(before) if isinstance(before, Mapping) else None
        return cls(str(data["target"]), str(data["accountId"]), str(data["name"]), dict(properties), kept)

    def apply(self, ports: Ports, etag: str | None) -> str | None:
        ports.diagnostics_port().put_diagnostic_setting(self.account_id, self.name, self.properties)
        return None
