"""The kernel's state and dispatch: clock, faults, test hooks, request log, the services, and the scenario loader.

Every request, answered or reset, is recorded before its reply goes out, so a client that has its
response can already see it in `Emulator.requests`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from .clock import Clock, parse_instant
from .faults import Fault, FaultBook, fault_reply
from .hooks import HookBook
from .http import RecordedRequest, Reply, Request, safe_headers
from .service import Service, ServiceError

log = logging.getLogger(__name__)
KERNEL_SECTIONS = ("faults", "clock")


class World:
    """One emulated tenant: the services that serve it and what they share."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.faults = FaultBook()
        self.hooks = HookBook()  # test hooks run before a matching request (Emulator.on_request)
        self.endpoint = ""
        # Base URLs of the named listeners (a data plane served on a port of its own), by listener name.
        self.endpoints: dict[str, str] = {}
        self.services: list[Service] = []
        self._log: list[RecordedRequest] = []
        self._log_lock = threading.Lock()

    # --- scenario -------------------------------------------------------------------------------
    def load(self, scenario: Mapping[str, Any]) -> None:
        """Check the top-level sections (keys starting with `_` are comments) and hand each to its owner."""
        owned = {s: svc for svc in self.services for s in svc.sections}
        unknown = sorted(k for k in scenario if not k.startswith("_") and k not in owned and k not in KERNEL_SECTIONS)
        if unknown:
            known = sorted([*owned, *KERNEL_SECTIONS])
            raise ValueError(f"unknown scenario sections {unknown}; known sections: {known}")
        clock = scenario.get("clock")
        if clock is not None:
            if not isinstance(clock, Mapping) or set(clock) != {"now"} or not isinstance(clock["now"], str):
                raise ValueError('scenario "clock" must be {"now": "<ISO 8601 instant>"}')
            self.clock.pin(parse_instant(clock["now"]))
        faults = scenario.get("faults") or []
        if not isinstance(faults, Sequence):
            raise ValueError('scenario "faults" must be a list')
        for index, raw in enumerate(faults):
            try:
                self.faults.add(Fault.from_json(raw))
            except (ValueError, TypeError, AttributeError) as err:
                raise ValueError(f"faults[{index}]: {err}") from None
        for service in self.services:
            service.load(scenario)

    def dump(self) -> dict[str, Any]:
        for service in self.services:
            service.tick()
        state: dict[str, Any] = {}
        for service in self.services:
            state.update(service.dump())
        state["faults"] = self.faults.dump()
        return state  # no "clock": a dump is the world's state, and time is not part of it

    # --- requests -------------------------------------------------------------------------------
    def service_for(self, req: Request) -> Service:
        """The first service that claims the request; the last registered one is the fallback."""
        return next((s for s in self.services if s.claims(req)), self.services[-1])

    def serve(self, req: Request) -> Reply:
        """Answer one request (fault, error or success) and record it."""
        service = self.service_for(req)
        hook_failed = self._run_hooks(service, req)
        for each in self.services:
            each.tick()
        fault = self.faults.take(req.method, req.path) if hook_failed is None else None
        reply = fault_reply(fault, service.error_reply) if fault is not None else hook_failed
        if reply is None:
            reply = self._handle(service, req)
            if fault is not None and fault.kind == "applied-then-error":
                # The change is made, but the client hears an error (a lost or failed reply): what makes an
                # SDK retry a PATCH that in fact already landed.
                message = "Applied, then failed to answer (emulator fault)."
                reply = service.error_reply(fault.status or 503, "ServiceUnavailable", message, {})
                reply.fault = fault.kind
            if fault is not None and reply.fault is None:
                reply.fault = fault.kind  # a latency fault, served normally after its delay
        if not reply.reset:
            service.decorate(req, reply)
        reply.kind = req.kind
        status = 0 if reply.reset else reply.status
        self.record(
            RecordedRequest(
                req.method.upper(),
                req.path,
                dict(req.query),
                _recorded_body(service, req),
                status,
                reply.fault,
                req.kind,
                safe_headers(req.headers),
            )
        )
        log.debug("%s %s -> %s%s", req.method, req.path, status, f" (fault {reply.fault})" if reply.fault else "")
        return reply

    def _run_hooks(self, service: Service, req: Request) -> Reply | None:
        """Run the test hooks armed for this request; a hook that raises makes the request a 500 (the test
        then fails where the hook did, with the traceback in the log) instead of being served."""
        for callback in self.hooks.take(req.method, req.path):
            try:
                callback()
            except Exception:
                log.exception("emulator on_request hook failed: %s %s", req.method, req.path)
                return service.error_reply(500, "InternalServerError", "An on_request test hook failed.", {})
        return None

    def _handle(self, service: Service, req: Request) -> Reply:
        try:
            return service.handle(req)
        except ServiceError as err:
            return err.reply()
        except Exception:
            log.exception("emulator route failed: %s %s", req.method, req.path)
            return service.error_reply(500, "InternalServerError", "The emulator failed to handle the request.", {})

    def record(self, entry: RecordedRequest) -> None:
        with self._log_lock:
            self._log.append(entry)

    def recorded(self) -> list[RecordedRequest]:
        with self._log_lock:
            return list(self._log)

    def clear_recorded(self) -> None:
        with self._log_lock:
            self._log.clear()


def _recorded_body(service: Service, req: Request) -> Any:
    """The body as the request log keeps it: a service that receives secret values provides
    `recorded_body(req)` to blank them (before any fault or error, so none reaches the log); every other body
    is kept as sent."""
    redact = getattr(service, "recorded_body", None)
    return redact(req) if callable(redact) else req.body
