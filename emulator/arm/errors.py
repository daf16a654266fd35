"""ARM's error body and the errors every resource type shares (FACTS.md §8: common-types v6 ErrorResponse)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.kernel.http import Reply, Request
from emulator.kernel.service import ServiceError

from . import ids


class ArmError(ServiceError):
    """An ARM-shaped failure: raised anywhere in routing, rendered as `{"error": {...}}`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        target: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target is not None:
            error["target"] = self.target
        return {"error": error}

    def reply(self) -> Reply:
        return Reply(self.status, self.body(), dict(self.headers))


def resource_not_found(resource_id: str) -> ArmError:
    """ARM's 404 for a missing resource, naming its type/name chain and resource group."""
    chain = "/".join(ids.after_providers(resource_id))
    group = ids.resource_group(resource_id) or ""
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{chain}' under resource group '{group}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def parent_not_found(parent_id: str) -> ArmError:
    """ARM's 404 for a nested resource (or a list of them) whose parent does not exist."""
    chain = "/".join(ids.after_providers(parent_id))
    return ArmError(
        404,
        "ParentResourceNotFound",
        f"Can not perform requested operation on nested resource. Parent resource '{chain}' not found.",
    )


def method_not_allowed(method: str) -> ArmError:
    return ArmError(405, "MethodNotAllowed", f"The requested resource does not support http method '{method}'.")


def json_object(req: Request) -> Mapping[str, Any]:
    """The request body as a JSON object, or ARM's 400 for a missing or malformed one."""
    if req.body_invalid:
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized.")
    if not isinstance(req.body, Mapping):
        raise ArmError(400, "InvalidRequestContent", "The request content must be a JSON object.")
    return req.body
