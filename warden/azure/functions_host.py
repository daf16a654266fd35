"""Glue between the Functions worker and the engine: start-up checks, a lazily built Runtime, the trigger bodies.

function_app.py only declares triggers; everything they do is here, so it is testable without the host.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from pathlib import Path

import azure.functions as func

from warden import __version__
from warden.audit_review import filter_entries
from warden.azure.eventgrid import RejectedEvent
from warden.azure.wiring import build_runtime
from warden.azure.worker_events import decode_worker_event
from warden.baseline import load_baseline
from warden.cli_log import positive_count, since_time
from warden.errors import BaselineError, ConfigurationError
from warden.planner import effective_mode
from warden.redact import for_log
from warden.runtime import Runtime
from warden.service import EventResult, SweepReport, check_account, handle_event, record_rejected, sweep
from warden.settings import load_settings

log = logging.getLogger(__name__)

_APP_DIR = Path(__file__).resolve().parents[2]
DEFAULT_AUDIT_LIMIT = 1000
_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def check_startup() -> None:
    """Validate the WARDEN_* settings and the baseline now, when the worker indexes the app: an invalid file
    then fails the deployment with its file:line instead of failing every event. Cheap: no SDK client."""
    try:
        settings = load_settings(base_dir=_APP_DIR)
        load_baseline(settings.baseline_path)
    except (BaselineError, ConfigurationError) as exc:
        log.error("warden cannot start: %s", exc)  # logged first so that it reaches Application Insights
        raise


def get_runtime() -> Runtime:
    """Built on first use, not at import: SDK clients cost cold-start time (check_startup has vetted the rest)."""
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


def on_event(event: func.EventGridEvent | func.CloudEvent, rt: Runtime | None = None) -> EventResult | None:
    """One Event Grid delivery, decoded once; None when it was rejected. A TransientError propagates so that
    Event Grid redelivers the event."""
    rt = rt or get_runtime()
    decoded = decode_worker_event(event)
    if isinstance(decoded, RejectedEvent):
        # Retrying cannot fix a malformed event: record it (with its envelope and payload) instead of failing.
        record_rejected(rt, decoded.event_id, decoded.message, decoded.raw)
        return None
    result = handle_event(decoded, rt)
    log.info(  # the id and reason quote the event: scrubbed and escaped like any line built from event content
        "event %s: accepted=%s %s %s",
        for_log(result.event_id),
        result.accepted,
        for_log(result.reason),
        [o.value for o in result.outcomes],
    )
    return result


def on_timer(timer: func.TimerRequest) -> None:
    """The hourly sweep: the controls that read ARM only."""
    _log_sweep("sweep", sweep(get_runtime(), data_plane=False))


def on_data_timer(timer: func.TimerRequest) -> None:
    """The data-plane sweep (WARDEN_DATA_SWEEP_SCHEDULE): the controls that read fine-tuning files."""
    _log_sweep("data sweep", sweep(get_runtime(), data_plane=True))


def _log_sweep(name: str, report: SweepReport) -> None:
    log.info("%s: %d accounts, outcomes %s, %d errors", name, report.accounts, report.outcomes, len(report.errors))
    for error in report.errors:
        log.warning("%s error: %s", name, error)


def on_check(req: func.HttpRequest) -> func.HttpResponse:
    """POST /api/check?account=<ARM id>[&control=<id>,...] : evaluate one account now, with the baseline's modes
    and limits, and answer its outcomes (the audit log has the rest). Function key required: it can act."""
    account = (req.params.get("account") or "").strip()
    if not account:
        return func.HttpResponse("bad query: account: give the account's ARM id\n", status_code=400)
    named = frozenset(c.strip() for c in (req.params.get("control") or "").split(",") if c.strip())
    try:
        result = check_account(get_runtime(), account, named or None)
    except ValueError as exc:
        return func.HttpResponse(f"bad query: {for_log(str(exc))}\n", status_code=400)
    body = {"account": account, "outcomes": [o.value for o in result.outcomes]}
    return func.HttpResponse(json.dumps(body), status_code=200, mimetype="application/json")


def on_health(req: func.HttpRequest) -> func.HttpResponse:
    """200 when the Runtime builds; 503 with the reason otherwise. Function key required: it shows configuration."""
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
        # What runs: implemented and listed in the baseline, each with its effective mode.
        "controls": {c: effective_mode(c, rt.baseline, rt.mode_override).value for c in sorted(rt.active_controls())},
        "modeOverride": rt.mode_override.value if rt.mode_override else None,
        # Without its own ids warden cannot tell its own changes' events from anyone else's (DESIGN §4).
        "loopGuard": {"selfObjectIds": bool(rt.self_object_ids), "selfAppIds": bool(rt.self_app_ids)},
    }
    return func.HttpResponse(json.dumps(body), status_code=200, mimetype="application/json")


def on_audit(req: func.HttpRequest) -> func.HttpResponse:
    """GET /api/audit?since=24h&resource=&control=&outcome=&limit= : the newest matching entries as JSON lines.

    `since` and `limit` are read by the same parsers as `warden log --since/--limit`; with `since`, only the
    day files/blobs that can hold entries from it on are read: the cost follows the range, not the log's age."""
    try:
        since_text = req.params.get("since")
        since = since_time(since_text) if since_text else None
    except ValueError as exc:
        return func.HttpResponse(f"bad query: since: {exc}\n", status_code=400)
    try:
        limit = positive_count(req.params.get("limit") or str(DEFAULT_AUDIT_LIMIT))
    except ValueError as exc:
        return func.HttpResponse(f"bad query: limit: {exc}\n", status_code=400)
    entries = deque(
        filter_entries(
            get_runtime().audit.entries(since=since),  # not the older day files/blobs
            since=since,
            resource=req.params.get("resource") or None,
            control=req.params.get("control") or None,
            outcome=req.params.get("outcome") or None,
        ),
        maxlen=limit,
    )
    body = "".join(json.dumps(e, sort_keys=True) + "\n" for e in entries)
    return func.HttpResponse(body, status_code=200, mimetype="application/x-ndjson")
