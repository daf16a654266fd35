"""Audit observers (warden/audit_held.py): told of every successful append once it is durable, never of a failed
one, and unable to fail or undo an append; for both sinks (the local folder, and the blob sink on Azurite)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient

from tests.audit.helpers import record
from warden.audit import LocalAuditLog
from warden.azure.audit_blob import BlobAuditLog
from warden.errors import AuditWriteError
from warden.model import AuditRecord


class Seen:
    """An observer that notes each batch and what the sink held at that moment (so "after the write" is checked)."""

    def __init__(self, sink: LocalAuditLog | BlobAuditLog) -> None:
        self.sink = sink
        self.batches: list[tuple[list[str], int]] = []

    def __call__(self, records: Sequence[AuditRecord]) -> None:
        stored = sum(1 for _ in self.sink.entries())
        self.batches.append(([r.event_id for r in records], stored))


def _broken(records: Sequence[AuditRecord]) -> None:
    raise RuntimeError("observer bug")


def test_local_sink_tells_observers_after_the_write(tmp_path: Path) -> None:
    sink = LocalAuditLog(tmp_path / "audit")
    seen = Seen(sink)
    sink.observers = (seen,)
    sink.append([record(1), record(2)])
    sink.append([record(3)])
    sink.append([])  # nothing written: nothing told
    assert seen.batches == [(["evt-1", "evt-2"], 2), (["evt-3"], 3)]


def test_a_failing_observer_neither_fails_nor_undoes_the_append(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sink = LocalAuditLog(tmp_path / "audit")
    seen = Seen(sink)
    sink.observers = (_broken, seen)  # the one after a broken observer is still told
    with caplog.at_level(logging.WARNING, logger="warden.audit_held"):
        sink.append([record(1)])
    assert [e["eventId"] for e in sink.entries()] == ["evt-1"]
    assert seen.batches == [(["evt-1"], 1)]
    assert "observer" in caplog.text and "failed" in caplog.text


def test_a_failed_append_tells_nobody(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the audit folder should be")
    sink = LocalAuditLog(blocker)
    told: list[Sequence[AuditRecord]] = []
    sink.observers = (told.append,)
    with pytest.raises(AuditWriteError):
        sink.append([record(1)])
    assert told == []


def test_blob_sink_tells_observers_after_the_write(container: ContainerClient) -> None:
    sink = BlobAuditLog(container)
    seen = Seen(sink)
    sink.observers = (seen,)
    sink.append([record(1)])
    sink.append([record(2), record(3)])
    assert seen.batches == [(["evt-1"], 1), (["evt-2", "evt-3"], 3)]


def test_blob_sink_failure_tells_nobody(azurite: str) -> None:
    with ContainerClient.from_connection_string(azurite, "no-such-container-for-observers") as missing:
        sink = BlobAuditLog(missing)
        told: list[Sequence[AuditRecord]] = []
        sink.observers = (told.append,)
        with pytest.raises(AuditWriteError):
            sink.append([record(1)])
        assert told == []
