"""Value types shared by every service: a request, a reply, and the request-log record.

Kept free of sockets and threading so routing code can be exercised without a server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# "arm", "operation-status" (an LRO poll), or the name of the listener a request came in on (a data plane
# served on a port of its own records its requests under that name).
RequestKind = str
# The only request headers the log keeps, spelled as here whatever the client sent. An allow-list, so
# Authorization, keys and anything else a client might send can never reach the log or requests.jsonl.
RECORDED_HEADERS = (
    "If-Match",
    "If-None-Match",
    "Content-Type",
    "x-ms-client-request-id",
    "x-ms-correlation-request-id",
    "User-Agent",
)
_RECORDED_BY_LOWER = {name.lower(): name for name in RECORDED_HEADERS}


def safe_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The allow-listed headers of a request (RECORDED_HEADERS), keyed by their canonical spelling."""
    return {_RECORDED_BY_LOWER[k.lower()]: v for k, v in headers.items() if k.lower() in _RECORDED_BY_LOWER}


@dataclass(frozen=True)
class RecordedRequest:
    """One request the emulator saw, with the outcome it gave (status 0 = connection reset, no reply).

    `headers` holds only the allow-listed RECORDED_HEADERS, never Authorization or a key.
    """

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    fault: str | None = None
    kind: RequestKind = "arm"
    headers: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The JSON-lines form written by Emulator.write_requests ("fault" only when one fired)."""
        out: dict[str, Any] = {
            "method": self.method,
            "path": self.path,
            "query": dict(self.query),
            "headers": dict(self.headers),
            "body": self.body,
            "status": self.status,
        }
        if self.fault is not None:
            out["fault"] = self.fault
        return out


@dataclass
class Request:
    """An HTTP request for the router: decoded path, last value of each query key, lower-cased headers."""

    method: str
    path: str
    raw_path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any = None
    body_invalid: bool = False
    listener: str = ""  # the named listener (port) it arrived on; "" for the main one

    @property
    def kind(self) -> RequestKind:
        if self.listener:
            return self.listener
        lowered = self.path.lower()
        polling = "/operationstatuses/" in lowered or "/operationresults/" in lowered
        return "operation-status" if polling else "arm"


@dataclass
class Reply:
    """What the router wants sent back; `reset` asks the server to drop the connection instead."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False
    kind: RequestKind = "arm"
    fault: str | None = None
