"""Record builders shared by the audit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from warden.model import AuditRecord, Caller

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
ACCOUNT = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-ai/providers/"
    "Microsoft.CognitiveServices/accounts/{name}"
)


def record(n: int = 0, *, day: int = 0, name: str = "aoai-prod", **fields: Any) -> AuditRecord:
    """A realistic result record; `n` makes it unique (event id and minutes), `day` shifts it by days."""
    values: dict[str, Any] = {
        "time": T0 + timedelta(days=day, minutes=n),
        "kind": "result",
        "event_id": f"evt-{n}",
        "correlation_id": f"corr-{n}",
        "caller": Caller(object_id="11111111-aaaa", app_id="22222222-bbbb"),
        "resource_id": ACCOUNT.format(name=name),
        "control_id": "network.public-access",
        "mode": "enforce",
        "decision": "enforce",
        "outcome": "remediated",
        "observed": {"publicNetworkAccess": "Enabled"},
        "expected": {"publicNetworkAccess": "Disabled"},
        "change": {"publicNetworkAccess": {"before": "Enabled", "after": "Disabled"}},
        "reason": "public network access enabled",
        "duration_ms": 12.5,
        "trigger": "event",
        "app_version": "0.1.0",
    }
    values.update(fields)
    return AuditRecord(**values)
