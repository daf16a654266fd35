"""Step kind rai-policy.copy: PUT a compliant UserManaged copy of a deployment's RAI policy (content filter).

The copy keeps every setting of its source and only turns the prompt filters the baseline requires on and
blocking. SystemManaged policies are never written: a copy is made instead. Its name is derived from its
content, so equal copies (two deployments on one policy, a redelivery) are one PUT (docs/ai.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from warden.model import Json
from warden.ports import Ports
from warden.steps import Step, Verify

#: The tag that names the policy a copy was made from, for an admin browsing the account's policies.
COPY_OF_TAG = "warden-copy-of"


@dataclass(frozen=True)
class RaiPolicyCopy:
    """PUT `{account}/raiPolicies/{name}` with `properties`; `target` is that policy's ARM id."""

    kind: ClassVar[str] = "rai-policy.copy"
    order: ClassVar[int] = 40  # the copy exists before any deployment is pointed at it
    permissions: ClassVar[tuple[str, ...]] = ("Microsoft.CognitiveServices/accounts/raiPolicies/write",)
    merges: ClassVar[bool] = False
    verify: ClassVar[Verify] = Verify.REREAD

    target: str
    account_id: str
    name: str
    source: str
    properties: Mapping[str, Json] = field(default_factory=dict)
    fixed: tuple[str, ...] = ()  # the filters turned on, for the audit record
    etag: None = None

    @classmethod
    def of(
        cls, account_id: str, name: str, source: str, properties: Mapping[str, Json], fixed: tuple[str, ...]
    ) -> RaiPolicyCopy:
        return cls(f"{account_id}/raiPolicies/{name}", account_id, name, source, properties, fixed)

    def merge(self, other: Step) -> RaiPolicyCopy:
        raise TypeError(f"{self.kind} steps do not merge")

    def change(self) -> dict[str, Json]:
        turned_on: list[Json] = list(self.fixed)
        return {"raiPolicy": {"before": None, "after": self.name, "copyOf": self.source, "filtersOn": turned_on}}

    def to_json(self) -> dict[str, Json]:
        return {
            "kind": self.kind,
            "target": self.target,
            "accountId": self.account_id,
            "name": self.name,
            "source": self.source,
            "properties": dict(self.properties),
            "fixed": list(self.fixed),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Json]) -> RaiPolicyCopy:
        properties, fixed = data.get("properties"), data.get("fixed")
        if not isinstance(properties, Mapping) or not isinstance(fixed, list):
            raise ValueError(f"a stored {cls.kind} step has no properties or fixed list: {sorted(data)}")
        return cls(
            str(data["target"]),
            str(data["accountId"]),
            str(data["name"]),
            str(data["source"]),
            dict(properties),
            tuple(str(f) for f in fixed),
        )

    def apply(self, ports: Ports, etag: str | None) -> str | None:
        tags = {COPY_OF_TAG: self.source}
        ports.deployment_port().put_rai_policy(self.account_id, self.name, self.properties, tags)
        return None
