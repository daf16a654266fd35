"""Resource Graph errors in its swagger's ErrorResponse: `{"error": {"code", "message", "details": [{"code",
"message"}]}}` (tests/fixtures/reference/resourcegraph/2024-04-01/resourcegraph.json, Error and ErrorDetails)."""

from __future__ import annotations

from typing import Any

from emulator.arm.errors import ArmError


class GraphError(ArmError):
    """A 400 BadRequest whose one detail says what was wrong (`InvalidQuery`, `InvalidSkipToken`, ...)."""

    def __init__(self, detail_code: str, message: str) -> None:
        super().__init__(400, "BadRequest", message)
        self.detail_code = detail_code

    def body(self) -> dict[str, Any]:
        details = [{"code": self.detail_code, "message": self.message}]
        return {"error": {"code": self.code, "message": self.message, "details": details}}


def invalid_query(what: str) -> GraphError:
    """A query outside the supported KQL subset, `what` naming the part not understood and its position."""
    return GraphError("InvalidQuery", f"Query is invalid: {what}.")


def bad_request(detail_code: str, what: str) -> GraphError:
    return GraphError(detail_code, what)
