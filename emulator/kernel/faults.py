"""Faults on demand: per method and path regex, each fires `count` times and then expires.

The error a fault forces is rendered by the service that owns the request, in that service's shape.

`lro-failed` is special: it is consumed by the long-running-operation code (the operation ends Failed),
every other kind replaces the normal reply before routing.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .http import Reply

# Renders a service's error body: (status, code, message, headers) -> Reply.
ErrorRenderer = Callable[[int, str, str, Mapping[str, str]], Reply]

FAULT_KINDS = (
    "latency",
    "throttle",
    "server-error",
    "not-found",
    "conflict",
    "precondition-failed",
    "reset",
    "lro-failed",
    "applied-then-error",  # the request is carried out, then answered with a 5xx (status, default 503)
    "forbidden",  # 403 AuthorizationFailed; `message` can carry ARM's text naming the action and scope
)

# kind -> (default status, ARM error code, message)
_ERRORS: dict[str, tuple[int, str, str]] = {
    "throttle": (429, "TooManyRequests", "The request was throttled (emulator fault)."),
    "server-error": (503, "ServiceUnavailable", "The service is temporarily unavailable (emulator fault)."),
    "applied-then-error": (503, "ServiceUnavailable", "The service is temporarily unavailable (emulator fault)."),
    "not-found": (404, "ResourceNotFound", "The resource was not found (emulator fault)."),
    "conflict": (409, "Conflict", "The resource is busy with another operation (emulator fault)."),
    "precondition-failed": (412, "PreconditionFailed", "The etag did not match (emulator fault)."),
    "forbidden": (403, "AuthorizationFailed", "The client does not have authorization to do this (emulator fault)."),
}
_CODE_BY_STATUS = {
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


@dataclass
class Fault:
    """One armed fault. `path` is a regex searched case-insensitively in the URL path."""

    method: str
    path: str
    kind: str
    count: int = 1
    status: int | None = None
    retry_after: float = 0
    delay: float = 0
    message: str | None = None  # the error's message instead of the kind's own
    pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if self.count < 1:
            raise ValueError("fault count must be >= 1")
        if self.retry_after < 0 or self.delay < 0:
            raise ValueError("fault retry_after and delay must be >= 0")
        self.method = self.method.upper()
        self.pattern = re.compile(self.path, re.IGNORECASE)

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method.upper()) and self.pattern.search(path) is not None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "method": self.method,
            "path": self.path,
            "kind": self.kind,
            "count": self.count,
        }
        if self.status is not None:
            out["status"] = self.status
        if self.retry_after:
            out["retryAfter"] = self.retry_after
        if self.delay:
            out["delay"] = self.delay
        if self.message is not None:
            out["message"] = self.message
        return out

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Fault:
        unknown = set(raw) - {"method", "path", "kind", "count", "status", "retryAfter", "delay", "message"}
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        if "path" not in raw or "kind" not in raw:
            raise ValueError(f"a scenario fault needs 'path' and 'kind': {dict(raw)!r}")
        status = raw.get("status")
        return cls(
            method=str(raw.get("method", "*")),
            path=str(raw["path"]),
            kind=str(raw["kind"]),
            count=int(raw.get("count", 1)),
            status=int(status) if status is not None else None,
            retry_after=float(raw.get("retryAfter", 0)),
            delay=float(raw.get("delay", 0)),
            message=str(raw["message"]) if raw.get("message") is not None else None,
        )


class FaultBook:
    """The armed faults, first added first matched; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str, *, lro: bool = False) -> Fault | None:
        """Consume one firing of the first matching fault: `lro-failed` ones only when `lro` is True."""
        with self._lock:
            for fault in self._faults:
                if (fault.kind == "lro-failed") == lro and fault.matches(method, path):
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def dump(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_json() for f in self._faults]


def retry_after_header(seconds: float) -> str:
    """Whole seconds print as an integer (what ARM sends); fractions are kept for quick tests."""
    return str(int(seconds)) if float(seconds).is_integer() else repr(float(seconds))


def fault_reply(fault: Fault, render: ErrorRenderer) -> Reply | None:
    """The reply a fault forces, or None when the request should then be served normally (latency, and
    applied-then-error, whose error replaces the reply after serving)."""
    if fault.kind in ("latency", "applied-then-error"):
        time.sleep(fault.delay)
        return None
    if fault.kind == "reset":
        return Reply(0, reset=True, fault=fault.kind)
    default_status, code, message = _ERRORS[fault.kind]
    message = fault.message or message
    status = fault.status or default_status
    if fault.kind == "server-error":
        code = _CODE_BY_STATUS.get(status, code)
    headers = {"Retry-After": retry_after_header(fault.retry_after)} if fault.kind == "throttle" else {}
    if fault.delay:
        time.sleep(fault.delay)
    reply = render(status, code, message, headers)
    reply.fault = fault.kind
    return reply
