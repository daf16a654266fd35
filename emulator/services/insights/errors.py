"""Microsoft.Insights errors in the diagnostic settings swagger's own ErrorResponse: flat `{"code", "message"}`,
with no `error` wrapper (tests/fixtures/reference/monitor/2021-05-01-preview/diagnosticsSettings_API.json).

Only what these routes raise takes this shape; what the ARM plane answers before routing (auth, api-version,
throttling, injected faults) keeps ARM's `{"error": {...}}`.
"""

from __future__ import annotations

from typing import Any

from emulator.arm.errors import ArmError


class InsightsError(ArmError):
    """An ArmError rendered flat, as DiagnosticSettings' ErrorResponse declares."""

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}

    @classmethod
    def of(cls, err: ArmError) -> InsightsError:
        """The same failure (a body refused by the generic validation), in the flat shape."""
        return cls(err.status, err.code, err.message, headers=err.headers)


def target_not_found(resource_id: str) -> InsightsError:
    return InsightsError(404, "ResourceNotFound", f"The resource '{resource_id}' was not found.")


def setting_not_found(name: str) -> InsightsError:
    return InsightsError(404, "ResourceNotFound", f"The diagnostic setting '{name}' does not exist.")


def bad_request(message: str) -> InsightsError:
    return InsightsError(400, "BadRequest", message)
