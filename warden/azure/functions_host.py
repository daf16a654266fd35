"""Glue between the Functions worker and the engine: start-up checks, a lazily built Runtime, the trigger bodies.

function_app.py only declares triggers; everything they do is here, so it is testable without the host.
"""

from __future__ import annotations

import atexit
import json
import logging
import threading
from collections import deque
from pathlib import Path

import azure.functions as func

from warden import __version__
from warden.audit_held import HoldsBack
from warden.audit_review import filter_entries
from warden.azure import sweep_queue
from warden.azure.echo_fast import recognise
from warden.azure.eventgrid import RejectedEvent
from warden.azure.wiring import build_runtime
from warden.azure.worker_events import decode_worker_event
from warden.baseline import load_baseline
from warden.cli_log import positive_count, since_time
from warden.echo_trace import Echo, EchoTrace, trace_for
from warden.errors import AuditWriteError, BaselineError, ConfigurationError
from warden.planner import effective_mode
from warden.redact import for_log
from warden.runtime import Runtime
from warden.service import EventResult, check_account, handle_event, record_rejected, triage_for
from warden.settings import load_settings
from warden.sweep import SweepReport, sweep

log = logging.getLogger(__name__)
# azure-core logs every request's and answer's headers at INFO, the level the Functions host forwards: for a
# sweep's thousands of requests that would be most of the log volume. Its warnings and errors still reach the host.
logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)

_APP_DIR = Path(__file__).resolve().parents[2]
DEFAULT_AUDIT_LIMIT = 1000
# How long an invocation waits, after its work is audited, for its notifications to go out (docs/notifications.md):
# a frozen or recycled instance would strand them. Bounded, so a topic that is down delays nothing for long.
NOTIFY_FLUSH_SECONDS = 2.0
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
            atexit.register(_flush_held, _runtime)
            if _runtime.notifier is not None:
                atexit.register(_runtime.notifier.close, NOTIFY_FLUSH_SECONDS)
        return _runtime


def _flush_held(rt: Runtime) -> None:
    """At shutdown: write the self-caused echoes' trace records the audit sink still holds (docs/audit.md)."""
    if isinstance(rt.audit, HoldsBack):
        try:
            rt.audit.flush()
        except AuditWriteError as exc:
            log.error("audit: held-back echo records lost at shutdown: %s", exc)


def reset_runtime() -> None:
    """Forget the Runtime so the next call rebuilds it from the current settings."""
    global _runtime  # noqa: PLW0603
    with _runtime_lock:
        _runtime = None


def on_event(event: func.EventGridEvent | func.CloudEvent, rt: Runtime | None = None) -> EventResult | None:
    """One Event Grid delivery, decoded once; None when it was rejected. A TransientError propagates so that
    Event Grid redelivers the event. A self-caused echo is only counted (docs/audit.md "Self-caused echoes"):
    recognised before the decode when its shape is plain (warden/azure/echo_fast.py), after it otherwise."""
    rt = rt or get_runtime()
    try:
        return _on_event(event, rt)
    finally:
        settle_notifications(rt)


def settle_notifications(rt: Runtime) -> None:
    """At the end of an invocation: give its notifications NOTIFY_FLUSH_SECONDS to go out (they never fail it)."""
    if rt.notifier is not None and not rt.notifier.flush(NOTIFY_FLUSH_SECONDS):
        log.warning("notify: %s still pending at the end of the invocation", rt.notifier.stats()["pending"])


def _on_event(event: func.EventGridEvent | func.CloudEvent, rt: Runtime) -> EventResult | None:
    trace = _echo_trace(rt)
    if trace is not None and (echo := recognise(event, rt)) is not None:
        return _count_echo(trace, echo)
    decoded = decode_worker_event(event)
    if isinstance(decoded, RejectedEvent):
        # Retrying cannot fix a malformed event: record it (with its envelope and payload) instead of failing.
        record_rejected(rt, decoded.event_id, decoded.message, decoded.raw)
        return None
    verdict = triage_for(decoded, rt)
    if trace is not None and verdict.self_caused:  # an echo of an unusual shape: the same count, at full cost
        return _count_echo(trace, Echo.of(decoded, verdict.reason))
    result = handle_event(decoded, rt, verdict=verdict)
    if log.isEnabledFor(logging.INFO):  # the strings below cost more than a dropped event's triage
        log.info(  # the id and reason quote the event: scrubbed and escaped like any line built from event content
            "event %s: accepted=%s %s %s",
            for_log(result.event_id),
            result.accepted,
            for_log(result.reason),
            [o.value for o in result.outcomes],
        )
    return result


def _echo_trace(rt: Runtime) -> EchoTrace | None:
    """The trace that counts echoes for rt's audit sink; None for a sink that cannot hold records back (a test's
    wrapper): its echoes take handle_event's path, one record each."""
    return trace_for(rt.audit.held, rt.clock) if isinstance(rt.audit, HoldsBack) else None


def _count_echo(trace: EchoTrace, echo: Echo) -> EventResult:
    """Our own change's event: counted in the trace, never remediated, no state read or written (loop guard)."""
    trace.count(echo)
    if log.isEnabledFor(logging.DEBUG):
        log.debug("event %s: %s", for_log(echo.event_id), for_log(echo.reason))
    return EventResult(echo.event_id, False, echo.reason)


def on_timer(timer: func.TimerRequest) -> None:
    """The hourly sweep: the controls that read ARM only. With WARDEN_SWEEP_QUEUE set it only plans: one work
    item per subscription on the queue (docs/scale.md "Fan-out")."""
    if not sweep_queue.plan_timer(get_runtime(), load_settings(base_dir=_APP_DIR), timer, data_plane=False):
        _log_sweep("sweep", sweep(get_runtime(), data_plane=False))
    settle_notifications(get_runtime())


def on_sweep_item(msg: func.QueueMessage) -> None:
    """One work item of a fanned-out sweep (docs/scale.md "Fan-out"); raising makes the host redeliver it."""
    sweep_queue.handle_message(get_runtime(), msg)
    settle_notifications(get_runtime())


def on_data_timer(timer: func.TimerRequest) -> None:
    """The data-plane sweep (WARDEN_DATA_SWEEP_SCHEDULE): the controls that read fine-tuning files; fanned out
    like the hourly sweep when WARDEN_SWEEP_QUEUE is set."""
    if not sweep_queue.plan_timer(get_runtime(), load_settings(base_dir=_APP_DIR), timer, data_plane=True):
        _log_sweep("data sweep", sweep(get_runtime(), data_plane=True))
    settle_notifications(get_runtime())


def _log_sweep(name: str, report: SweepReport) -> None:
    log.info("%s: %s; %d error(s)", name, report.summary(), len(report.errors))
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
    settle_notifications(get_runtime())
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
    if rt.notifier is not None:  # delivery counters since the worker started (docs/notifications.md)
        body["notifications"] = rt.notifier.stats()
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
