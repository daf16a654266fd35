"""Azure Storage round trips per event on the production path: the blob state store and the blob audit sink on
Azurite, the local ARM emulator for the account, three event classes (drifted, compliant, self-caused echo).

Every HTTP request the Storage clients actually send is counted by their transport (retries included), with its
method and blob path. Each class is one fresh event for an account never seen before, delivered through
`functions_host.on_event` after a warm-up echo on another account (so the audit sink already knows its chain
head, as it does after its first append in a process). Azurite is started here and stopped at the end.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from azure.core.pipeline.transport import HttpRequest, HttpResponse, RequestsTransport
from azure.storage.blob import ContainerClient, ExponentialRetry

from bench.world import CLOSED, OPEN, WARDEN_OID, baseline_text, make_runtime, write_event
from emulator import Emulator
from emulator.azurite import AzuriteError, azurite
from emulator.builders import account, account_id
from warden.audit import AuditLog
from warden.azure import functions_host
from warden.azure.audit_blob import BlobAuditLog
from warden.azure.state_blob import BlobStateStore
from warden.azure.worker_events import to_functions_event
from warden.runtime import Runtime

#: The issue's figures before this work (drifted, compliant, echo) and its targets.
BEFORE = {"drifted": 15, "compliant": 9, "echo": 3}
TARGET = {"drifted": 6, "compliant": 3, "echo": 1}


class CountingTransport(RequestsTransport):  # type: ignore[misc]  # the SDK's transport is untyped
    """The SDK's own transport, noting every request it sends: (method, blob path[?comp]) in order."""

    def __init__(self, sent: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sent = sent

    def send(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        url = urlparse(request.url)
        # /devstoreaccount1/<container>/<blob>: keep the blob's name (or "" for the container itself).
        parts = url.path.split("/", 3)
        path = parts[3] if len(parts) > 3 else ""
        comp = parse_qs(url.query).get("comp", [""])[0]
        self.sent.append((request.method, path + (f"?comp={comp}" if comp else "")))
        response: HttpResponse = super().send(request, **kwargs)
        return response


def _client(conn: str, container: str, sent: list[tuple[str, str]]) -> ContainerClient:
    """A container client as warden/azure/clients.py builds it (same retry and timeouts), counting requests."""
    retry = ExponentialRetry(initial_backoff=1, increment_base=2, retry_total=4, random_jitter_range=1)
    return ContainerClient.from_connection_string(
        conn,
        container,
        retry_policy=retry,
        connection_timeout=10,
        read_timeout=30,
        transport=CountingTransport(sent),
    )


def flush(audit: AuditLog) -> None:
    """Write out any records the sink holds back (self-caused echoes are batched: docs/audit.md)."""
    flusher = getattr(audit, "flush", None)
    if callable(flusher):
        flusher()


def _blob_runtime(emu: Emulator, conn: str, folder: Path, sent: list[tuple[str, str]]) -> Runtime:
    """The Runtime the Functions app builds, with the blob state store and blob audit sink on counting clients."""
    state, audit = f"state-{uuid.uuid4().hex[:12]}", f"audit-{uuid.uuid4().hex[:12]}"
    for name in (state, audit):
        ContainerClient.from_connection_string(conn, name).create_container()
    rt = make_runtime(emu, folder, baseline_text())
    return dataclasses.replace(
        rt, state=BlobStateStore(_client(conn, state, sent)), audit=BlobAuditLog(_client(conn, audit, sent))
    )


def reopen(rt: Runtime, name: str) -> None:
    """Someone opens the account to the internet again (a PATCH through ARM, not warden's doing)."""
    rt.ports.accounts.patch_account(account_id(name), {"publicNetworkAccess": "Enabled"})


def measure(conn: str, folder: Path) -> dict[str, Any]:
    """Per class: the Storage requests of its first event for an account ("first": its state blob is created)
    and of a later one ("again"), and the amortized cost of 200 echoes."""
    names = {"warm-up": "trips-warm", "drifted": "trips-drift", "compliant": "trips-ok", "echo": "trips-echo"}
    resources = [account(names["drifted"], **OPEN), account(names["compliant"], **CLOSED)]
    resources += [account(names["warm-up"], **CLOSED), account(names["echo"], **CLOSED)]
    sent: list[tuple[str, str]] = []
    out: dict[str, Any] = {"classes": {}}
    with Emulator({"resources": resources}) as emu:
        emu.set_lro_mode("sync")
        rt = _blob_runtime(emu, conn, folder, sent)

        def deliver(event: dict[str, Any]) -> None:
            functions_host.on_event(to_functions_event(event), rt)

        # The process's one-offs (the audit chain head, the tenant counter, the listing of an older layout's blobs).
        deliver(write_event(account_id(names["warm-up"]), event_id="warm-1"))
        reopen(rt, names["warm-up"])
        deliver(write_event(account_id(names["warm-up"]), event_id="warm-2"))
        flush(rt.audit)
        for cls, oid in (("drifted", None), ("compliant", None), ("echo", WARDEN_OID)):
            for when in ("first", "again"):
                if when == "again" and cls == "drifted":
                    reopen(rt, names[cls])  # drifted once more
                sent.clear()
                arm_before = len(emu.requests)
                extra = {"oid": oid} if oid else {}
                deliver(write_event(account_id(names[cls]), event_id=f"{cls}-{when}", **extra))
                arm = [(r.method, r.kind) for r in emu.requests[arm_before:]]
                out["classes"][f"{cls} ({when})"] = {"count": len(sent), "requests": list(sent), "arm": arm}
        sent.clear()
        echoes = 200
        for i in range(echoes):
            deliver(write_event(account_id(names["echo"]), event_id=f"echo-run-{i}", oid=WARDEN_OID))
        flush(rt.audit)
        out["echo_amortized"] = {"echoes": echoes, "requests": len(sent), "per_echo": len(sent) / echoes}
    return out


def measure_trips() -> dict[str, Any]:
    """Start Azurite, measure, stop it."""
    with tempfile.TemporaryDirectory(prefix="warden-bench-trips-") as work:
        try:
            with azurite(Path(work)) as conn:
                return measure(conn, Path(work) / "app")
        except AzuriteError as exc:
            raise SystemExit(f"bench: {exc}") from exc


def shape(requests: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The requests with hashes and days replaced by placeholders: a sequence that does not depend on the run."""
    return [
        (m, re.sub(r"audit/[0-9/-]+\.jsonl", "audit/<day>.jsonl", re.sub(r"[0-9a-f]{64}", "<sha>", p)))
        for m, p in requests
    ]


def render(result: dict[str, Any]) -> Iterator[str]:
    yield "7. Storage round trips per event (blob state store + blob audit sink on Azurite, audit head known)"
    for cls, figures in result["classes"].items():
        yield (
            f"   {cls:<18} {figures['count']:>2} requests (issue's before: {BEFORE[cls.split()[0]]}, "
            f"target <= {TARGET[cls.split()[0]]}); "
            f"ARM: {len(figures['arm'])}"
        )
        for method, path in shape(figures["requests"]):
            yield f"      {method:<6} {path}"
    amortized = result["echo_amortized"]
    yield (
        f"   echo, amortized: {amortized['requests']} requests for {amortized['echoes']} echoes "
        f"({amortized['per_echo']:.3f} per echo, flush included)"
    )


if __name__ == "__main__":
    logging.getLogger("warden").setLevel(logging.ERROR)  # the bench's own re-opening PATCH warns
    for line in render(measure_trips()):
        print(line)
