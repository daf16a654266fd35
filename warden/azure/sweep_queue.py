"""The sweep's fan-out (docs/scale.md "Fan-out"): the timer plans one work item per subscription onto an Azure
Storage queue; the queue trigger sweeps one subscription per item, idempotently, under the run's shared cap.
"""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

import azure.functions as func

from warden.azure.errors import classified_errors
from warden.ids import is_guid
from warden.model import Json, Outcome, Trigger
from warden.records import Context, Recorder
from warden.redact import for_log
from warden.runtime import RUN_WINDOW, Runtime, shared_run_budget
from warden.service import record_rejected
from warden.settings import Settings, queue_service_url
from warden.sweep import sweep

if TYPE_CHECKING:
    from azure.storage.queue import QueueClient

log = logging.getLogger(__name__)

VERSION = 1
#: How much of a rejected message's body is recorded (the queue holds only warden's own items: anything
#: else is a bug or a stranger with write access, and neither needs more to be recognised).
MAX_RECORDED_BODY = 2048
_FIELDS = frozenset({"run", "subscription", "dataPlane", "version"})
# A run id names its sweep (the ARM controls, or the data-plane ones) and the occurrence its timer fired for.
_RUN = re.compile(r"(sweep|data)-(\d{8}T\d{6}Z)")
_RUN_TIME = "%Y%m%dT%H%M%SZ"


class ItemNotFinished(Exception):  # noqa: N818 - it is not an error of the item: the queue retries it
    """The item's sweep stopped early (throttling, its time budget): raised so that the queue redelivers the
    item after host.json's visibilityTimeout, up to maxDequeueCount (then the poison queue)."""


class ItemResult(enum.StrEnum):
    DONE = "done"
    DUPLICATE = "duplicate"  # already done: a duplicated message, a redelivery after a lost delete
    REJECTED = "rejected"  # malformed or out of scope: recorded, never retried
    STALE = "stale"  # older than the run's window: the next sweep covers the subscription


@dataclass(frozen=True)
class WorkItem:
    """One subscription of one run: the unit of work the queue carries."""

    run: str
    subscription: str
    data_plane: bool

    @property
    def key(self) -> str:
        """The state store's done marker of this item."""
        return f"sweep/{self.run}/{self.subscription}"

    def to_json(self) -> str:
        body = {"run": self.run, "subscription": self.subscription, "dataPlane": self.data_plane, "version": VERSION}
        return json.dumps(body, sort_keys=True)


def run_id(timer: func.TimerRequest, clock: Callable[[], datetime], *, data_plane: bool) -> str:
    """The run's id, from the occurrence the timer fires for: the schedule monitor's `Next` while it runs (also
    on a past-due firing after a crash, whose status was not saved), so two firings for one occurrence give the
    same id and the same items. Without a schedule status (use_monitor off), the minute of `clock`."""
    scheduled = _scheduled(timer) or clock().astimezone(UTC).replace(second=0, microsecond=0)
    return f"{'data' if data_plane else 'sweep'}-{scheduled.strftime(_RUN_TIME)}"


def _scheduled(timer: func.TimerRequest) -> datetime | None:
    status = getattr(timer, "schedule_status", None) or {}
    text = status.get("Next") if isinstance(status, dict) else None
    if not isinstance(text, str):
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    # The host writes local time, which is UTC unless WEBSITE_TIME_ZONE says otherwise.
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when.replace(microsecond=0)


def plan(rt: Runtime, queue: QueueClient, run: str, *, data_plane: bool) -> list[WorkItem]:
    """Enqueue one item per subscription in scope, once per run: a second firing for the same occurrence finds
    the plan done, records that and enqueues nothing (a firing that crashed mid-plan re-sends every item: the
    items' done markers make the duplicates no-ops)."""
    plan_key = f"plan/{run}"
    rec = Recorder(Context(Trigger.SWEEP, plan_key), rt.clock, time.monotonic())
    active = rt.active_controls()
    if not any(c.id in active and c.data_plane == data_plane for c in rt.controls):
        log.info("sweep run %s: no active control reads this plane, nothing to plan", run)
        return []
    if rt.state.is_done(plan_key):
        reason = f"duplicate plan: run {run} was already planned"
        log.info("%s", reason)
        rt.audit.append([rec.event("", Outcome.IGNORED, reason)])
        return []
    items = [WorkItem(run, sub, data_plane) for sub in sorted(rt.baseline.subscriptions)]
    with classified_errors(f"sweep queue {queue.queue_name}: sending run {run}", write=True):
        for item in items:
            queue.send_message(item.to_json())
    rt.state.mark_done(plan_key, rt.clock())
    log.info("sweep run %s: %d work item(s) queued", run, len(items))
    return items


def plan_timer(rt: Runtime, settings: Settings, timer: func.TimerRequest, *, data_plane: bool) -> bool:
    """The timer's part when WARDEN_SWEEP_QUEUE is set: plan its run and say so (True); False: sweep in-process."""
    if not settings.sweep_queue:
        return False
    plan(rt, queue_for(settings), run_id(timer, rt.clock, data_plane=data_plane), data_plane=data_plane)
    return True


@lru_cache(maxsize=4)
def queue_for(settings: Settings) -> QueueClient:
    """The sweep queue on the state storage account: its queue endpoint with the Entra credential in Azure, or
    the connection string's QueueEndpoint on Azurite. Messages are base64 text, as the Functions queue trigger
    decodes them (host.json `messageEncoding`). Created when missing."""
    # Imported here: only a timer that fans out pays for the Queue SDK (cold start).
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.queue import ExponentialRetry, QueueClient, TextBase64EncodePolicy

    from warden.azure.wiring import build_credential

    name = str(settings.sweep_queue)
    encode = TextBase64EncodePolicy()
    retry = ExponentialRetry(initial_backoff=1, increment_base=2, retry_total=4, random_jitter_range=1)
    if settings.state_connection_string:
        client = QueueClient.from_connection_string(
            settings.state_connection_string,
            name,
            message_encode_policy=encode,
            retry_policy=retry,
            connection_timeout=10,
            read_timeout=30,
        )
    else:
        url = queue_service_url(str(settings.state_account_url))
        credential = build_credential(settings)
        client = QueueClient(
            url,
            name,
            credential=credential,
            message_encode_policy=encode,
            retry_policy=retry,
            connection_timeout=10,
            read_timeout=30,
        )
    with classified_errors(f"sweep queue {name}: creating it"), contextlib.suppress(ResourceExistsError):
        client.create_queue()
    return client


def handle_message(rt: Runtime, msg: func.QueueMessage) -> ItemResult:
    """One delivery of the queue trigger (body already base64-decoded by the host). A malformed or out-of-scope
    item is recorded as rejected and returns (the host deletes it: retrying cannot fix it)."""
    body = msg.get_body()
    try:
        item = decode_item(body, rt.baseline.in_scope)
    except ValueError as exc:
        text = body.decode("utf-8", errors="replace")[:MAX_RECORDED_BODY]
        raw: Json = {"queueMessage": text, "dequeueCount": getattr(msg, "dequeue_count", None)}
        record_rejected(rt, msg.id or "", f"sweep work item: {exc}", raw)
        return ItemResult.REJECTED
    return handle_item(rt, item)


def decode_item(body: bytes, in_scope: Callable[[str], bool]) -> WorkItem:
    """The work item a message carries; ValueError saying what is wrong with it."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict) or set(data) != _FIELDS:
        raise ValueError(f"want an object with exactly {', '.join(sorted(_FIELDS))}")
    version, run, subscription, data_plane = data["version"], data["run"], data["subscription"], data["dataPlane"]
    if version != VERSION or isinstance(version, bool):
        raise ValueError(f"version {version!r} is not {VERSION}")
    matched = _RUN.fullmatch(run) if isinstance(run, str) else None
    if matched is None:
        raise ValueError(f"run {run!r} is not sweep-<time> or data-<time> (time as {_RUN_TIME})")
    if not isinstance(data_plane, bool) or data_plane != (matched.group(1) == "data"):
        raise ValueError(f"dataPlane {data_plane!r} does not match run {run}")
    if not isinstance(subscription, str) or not is_guid(subscription):
        raise ValueError(f"subscription {subscription!r} is not a subscription id")
    if not in_scope(subscription):
        raise ValueError(f"subscription {subscription} is not in the baseline's scope")
    return WorkItem(run, subscription.lower(), data_plane)


def handle_item(rt: Runtime, item: WorkItem) -> ItemResult:
    """Sweep the item's subscription unless it is done already; mark it done when the sweep finished. A sweep
    that stopped early raises ItemNotFinished: the redelivery re-checks the subscription, and the accounts
    fixed the first time are compliant by then (no second action); the run's cap counts across every item."""
    rec = Recorder(Context(Trigger.SWEEP, item.key), rt.clock, time.monotonic())
    scope = f"/subscriptions/{item.subscription}"
    if rt.state.is_done(item.key):
        reason = f"duplicate work item: {item.key} was already done"
        log.info("%s", reason)
        rt.audit.append([rec.event(scope, Outcome.IGNORED, reason)])
        return ItemResult.DUPLICATE
    started = datetime.strptime(item.run.split("-", 1)[1], _RUN_TIME).replace(tzinfo=UTC)
    if rt.clock() - started > RUN_WINDOW:
        # Past the window the run's shared count is kept for, the cap could no longer hold across items.
        reason = f"stale work item: run {item.run} is older than {RUN_WINDOW}; the next sweep covers it"
        log.warning("%s", reason)
        rt.audit.append([rec.event(scope, Outcome.IGNORED, reason)])
        return ItemResult.STALE
    budget = shared_run_budget(rt.state, item.run, rt.clock)
    report = sweep(rt, Trigger.SWEEP, data_plane=item.data_plane, subscriptions=[item.subscription], budget=budget)
    log.info(
        "sweep item %s: %d accounts, outcomes %s, %d errors",
        item.key,
        report.accounts,
        report.outcomes,
        len(report.errors),
    )
    for error in report.errors:
        log.warning("sweep item %s error: %s", item.key, for_log(error))
    if report.stopped:
        raise ItemNotFinished(f"{item.key}: {report.stopped}; the queue redelivers it")
    rt.state.mark_done(item.key, rt.clock())
    return ItemResult.DONE
