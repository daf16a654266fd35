"""What a service (a plane of Azure: ARM, a Key Vault data plane, the Azure OpenAI data plane) gives the kernel.

A service claims the requests it serves, answers them, renders its own error shape (also for injected
faults), and owns the scenario sections it names. The kernel calls `tick` before each request and each
state dump, so work that completes by time (long-running operations) lands whether or not anyone polls.
Two optional members: `listener` (a name) asks the facade for a port of the service's own, whose requests
carry that name (Request.listener, also their kind in the log); `recorded_body(req)` is the body as the
request log may keep it (secret values blanked), for a service that receives secrets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from .http import Reply, Request


class ServiceError(Exception):
    """A failure a service raises while routing; it knows how to render itself as that service's reply."""

    def reply(self) -> Reply:
        raise NotImplementedError


class CodedError(ServiceError):
    """A failure answered as `{"error": {"code", "message"}}`, the OData shape the data planes share (Key Vault,
    Azure OpenAI); each plane subclasses it so its own errors say where they come from."""

    def __init__(self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}

    def reply(self) -> Reply:
        return Reply(self.status, self.body(), dict(self.headers))


class Service(Protocol):
    name: str
    sections: tuple[str, ...]  # top-level scenario keys this service loads and dumps

    def claims(self, req: Request) -> bool:
        """True when this service answers `req` (by host, path prefix or shape)."""

    def handle(self, req: Request) -> Reply:
        """Answer one request; may raise ServiceError."""

    def error_reply(self, status: int, code: str, message: str, headers: Mapping[str, str]) -> Reply:
        """This service's error body, for faults the kernel injects."""

    def tick(self) -> None:
        """Complete what is due by the clock (called before every request and every dump)."""

    def load(self, scenario: Mapping[str, Any]) -> None:
        """Load this service's sections of a scenario (raise ValueError naming the section at fault)."""

    def dump(self) -> dict[str, Any]:
        """This service's sections, in scenario form."""

    def decorate(self, req: Request, reply: Reply) -> None:
        """Add per-service response headers (request ids, rate-limit counters) to any reply it gave."""
