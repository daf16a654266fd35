"""Glue between the Functions worker and the engine: a lazily built Runtime and the three trigger bodies.

function_app.py only declares triggers; everything they do is here, so it is testable without the host.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import azure.functions as func

from warden import __version__
from warden.audit import filter_entries
from warden.azure.eventgrid import from_functions_event, reduce_raw
from warden.azure.wiring import build_runtime
from warden.errors import InvalidEventError
from warden.pipeline import Runtime
from warden.service import handle_event, record_rejected, sweep
from warden.settings import load_settings

log = logging.getLogger(__name__)

_APP_DIR = Path(__file__).resolve().parents[2]
_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def get_runtime() -> Runtime:
    """Built on first use, not at import: import time is cold-start time, and a bad baseline must surface."""
    global _runtime  # noqa: PLW0603 - one Runtime per worker process is the point
    with _runtime_lock:
        if _runtime is None:
            _runtime = build_runtime(load_settings(base_dir=_APP_DIR))
        return _runtime


def reset_runtime() -> None:
    """Forget the Runtime so the next call rebuilds it from the current settings."""
    global _runtime  # noqa: PLW0603
    with _runtime_lock:
        _runtime = None


def on_event(event: func.EventGridEvent | func.CloudEvent, rt: Runtime | None = None) -> None:
    """One Event Grid delivery. A TransientError propagates so that Event Grid redelivers the event."""
    rt = rt or get_runtime()
    try:
        resource_event = from_functions_event(event)
    except InvalidEventError as exc:
        # Retrying cannot fix a malformed event: record it (with its payload) instead of failing forever.
        record_rejected(rt, getattr(event, "id", "") or "", str(exc), reduce_raw(_raw_of(event)))
        return
    result = handle_event(resource_event, rt)
    log.info(
        "event %s: accepted=%s %s %s",
        result.event_id,
        result.accepted,
        result.reason,
        [o.value for o in result.outcomes],
    )


def on_timer(timer: func.TimerRequest) -> None:
    report = sweep(get_runtime())
    log.info("sweep: %d accounts, outcomes %s, %d errors", report.accounts, report.outcomes, len(report.errors))
    for error in report.errors:
        log.warning("sweep error: %s", error)


def on_health(req: func.HttpRequest) -> func.HttpResponse:
    """200 when the baseline loads and the settings are valid; 503 with the reason otherwise."""
    try:
        rt = get_runtime()
    except Exception as exc:  # health reports any start-up failure, it does not hide it
        failure = {"status": "unhealthy", "error": str(exc), "version": __version__}
        return func.HttpResponse(json.dumps(failure), status_code=503, mimetype="application/json")
    body: dict[str, object] = {
        "status": "ok",
        "version": __version__,
        "baseline": rt.baseline.source,
        "subscriptions": len(rt.baseline.subscriptions),
        "controls": sorted(d.control_id for d in rt.detectors),
        "modeOverride": rt.mode_override.value if rt.mode_override else None,
    }
    return func.HttpResponse(json.dumps(body), status_code=200, mimetype="application/json")


def on_audit(req: func.HttpRequest) -> func.HttpResponse:
    """GET /api/audit?since=24h&resource=&control=&outcome=&limit= : matching entries as JSON lines."""
    try:
        since = _parse_since(req.params.get("since"))
        limit = int(req.params.get("limit", "1000"))
    except ValueError as exc:
        return func.HttpResponse(f"bad query: {exc}\n", status_code=400)
    entries = list(
        filter_entries(
            get_runtime().audit.entries(),
            since=since,
            resource=req.params.get("resource") or None,
            control=req.params.get("control") or None,
            outcome=req.params.get("outcome") or None,
        )
    )[-limit:]
    body = "".join(json.dumps(e, sort_keys=True) + "\n" for e in entries)
    return func.HttpResponse(body, status_code=200, mimetype="application/x-ndjson")


def _parse_since(text: str | None) -> datetime | None:
    """An ISO time, or a relative age such as 30m, 24h, 7d."""
    if not text:
        return None
    units = {"m": "minutes", "h": "hours", "d": "days"}
    if text[-1] in units and text[:-1].isdigit():
        return datetime.now(UTC) - timedelta(**{units[text[-1]]: int(text[:-1])})
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _raw_of(event: func.EventGridEvent | func.CloudEvent) -> dict[str, object]:
    try:
        data = event.get_json()
    except ValueError:
        data = None
    return {"id": getattr(event, "id", None), "subject": getattr(event, "subject", None), "data": data}
