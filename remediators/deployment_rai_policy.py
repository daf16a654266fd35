"""Step kind deployment.rai-policy: point a deployment at another RAI policy, with a PUT that sends every
other field back exactly as read (PATCH cannot change `raiPolicyName`), and only if the deployment is
unchanged since it was judged (If-Match).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from warden.model import Json
from warden.ports import Ports
from warden.steps import Step, Verify


@dataclass(frozen=True)
class DeploymentRaiPolicy:
    """Set `properties.raiPolicyName` of the deployment `target` (its ARM id) to `policy`."""

    kind: ClassVar[str] = "deployment.rai-policy"
    order: ClassVar[int] = 41
    permissions: ClassVar[tuple[str, ...]] = (
        "Microsoft.CognitiveServices/accounts/deployments/read",
        "Microsoft.CognitiveServices/accounts/deployments/write",
    )
    merges: ClassVar[bool] = False
    verify: ClassVar[Verify] = Verify.REREAD

    target: str
    policy: str
    before: str | None = None  # the raiPolicyName as read (None: the default policy)
    etag: str | None = None

    def merge(self, other: Step) -> DeploymentRaiPolicy:
        raise TypeError(f"{self.kind} steps do not merge")

    def change(self) -> dict[str, Json]:
        return {"raiPolicyName": {"before": self.before, "after": self.policy}}

    def to_json(self) -> dict[str, Json]:
        return {"kind": self.kind, "target": self.target, "policy": self.policy, "before": self.before}

    @classmethod
    def from_json(cls, data: Mapping[str, Json]) -> DeploymentRaiPolicy:
        # A stored step is applied without If-Match: the etag it was judged on belongs to a read long gone.
        before = data.get("before")
        return cls(str(data["target"]), str(data["policy"]), str(before) if before is not None else None)

    def apply(self, ports: Ports, etag: str | None) -> str | None:
        return ports.deployment_port().repoint_deployment(self.target, self.policy, etag=etag)
