"""Scenario `options`: how ARM answers writes, pages lists, treats If-Match and counts requests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LRO_MODES = ("sync", "async")
IF_MATCH_MODES = ("honoured", "ignored")
_FIELDS = {"lro", "operationSeconds", "pageSize", "ifMatch", "rateLimits"}
# The If-Match mode of a scenario that does not name one. warden's test suite runs a second time with this
# set to "ignored" (`pytest --if-match=ignored`, tests/conftest.py), so every test also sees a service that
# does not honour If-Match.
DEFAULT_IF_MATCH = "honoured"


@dataclass
class Options:
    """`lro`: sync (done when answered) or async (202, done `operation_seconds` later by the clock).
    `if_match`: honoured (412 on a stale etag) or ignored (the swagger does not declare If-Match on
    Accounts_Update, so a client must not rely on it). `reads`/`writes`: requests per subscription per
    clock hour before ARM throttles, counted down in the x-ms-ratelimit-remaining-subscription-* headers."""

    lro: str = "sync"
    operation_seconds: float = 0.0
    page_size: int = 100
    if_match: str = "honoured"
    reads: int = 12000
    writes: int = 1200

    @classmethod
    def from_json(cls, raw: Any) -> Options:
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise ValueError('scenario "options" must be an object')
        unknown = set(raw) - _FIELDS
        if unknown:
            raise ValueError(f"unknown scenario options: {sorted(unknown)}; known: {sorted(_FIELDS)}")
        limits = raw.get("rateLimits") or {}
        if not isinstance(limits, Mapping) or set(limits) - {"reads", "writes"}:
            raise ValueError('options.rateLimits must be {"reads": N, "writes": N}')
        try:
            opts = cls(
                lro=str(raw.get("lro", "sync")),
                operation_seconds=float(raw.get("operationSeconds", 0.0)),
                page_size=int(raw.get("pageSize", 100)),
                if_match=str(raw.get("ifMatch", DEFAULT_IF_MATCH)),
                reads=int(limits.get("reads", 12000)),
                writes=int(limits.get("writes", 1200)),
            )
        except (TypeError, ValueError) as err:
            raise ValueError(f"scenario options: {err}") from None
        opts.validate()
        return opts

    def validate(self) -> None:
        if self.lro not in LRO_MODES:
            raise ValueError(f"options.lro must be one of {LRO_MODES}, not {self.lro!r}")
        if self.if_match not in IF_MATCH_MODES:
            raise ValueError(f"options.ifMatch must be one of {IF_MATCH_MODES}, not {self.if_match!r}")
        if self.operation_seconds < 0:
            raise ValueError("options.operationSeconds must be >= 0")
        if self.page_size < 1:
            raise ValueError("options.pageSize must be >= 1")
        if self.reads < 0 or self.writes < 0:
            raise ValueError("options.rateLimits values must be >= 0")

    def to_json(self) -> dict[str, Any]:
        return {
            "lro": self.lro,
            "operationSeconds": self.operation_seconds,
            "pageSize": self.page_size,
            "ifMatch": self.if_match,
            "rateLimits": {"reads": self.reads, "writes": self.writes},
        }
