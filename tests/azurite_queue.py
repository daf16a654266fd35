"""Azurite's queue service for the tests of the sweep's fan-out (docs/scale.md "Fan-out"): one process per
session, in memory, beside the session's blob Azurite, so that one connection string names both endpoints of
the same (development) storage account, as the state store and the sweep queue share one account in Azure.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from azure.storage.queue import QueueClient

from emulator.azurite import AZURITE, DEV_ACCOUNT, AzuriteError, _free_port, _wait_listening

AZURITE_QUEUE = AZURITE.with_name("azurite-queue")


@contextmanager
def running_queue(workdir: Path) -> Iterator[str]:
    """Azurite's queue service running for the duration; yields its `QueueEndpoint=...;` connection part."""
    if not AZURITE_QUEUE.exists():
        raise AzuriteError(
            f"Azurite is not installed ({AZURITE_QUEUE} is missing): run `npm ci` in the repository root"
        )
    port = _free_port()
    args = ["--silent", "--inMemoryPersistence", "--disableTelemetry", "--queueHost", "127.0.0.1"]
    args += ["--queuePort", str(port), "--skipApiVersionCheck"]
    log_path = workdir / "azurite-queue.log"
    with log_path.open("wb") as output:
        proc = subprocess.Popen([str(AZURITE_QUEUE), *args], cwd=workdir, stdout=output, stderr=subprocess.STDOUT)
        try:
            _wait_listening(proc, port, log_path)
            yield f"QueueEndpoint=http://127.0.0.1:{port}/{DEV_ACCOUNT};"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="session")
def azurite_storage(azurite: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A connection string with the session's blob endpoint and a queue endpoint: one development account."""
    try:
        with running_queue(tmp_path_factory.mktemp("azurite-queue")) as queue_endpoint:
            yield azurite + queue_endpoint
    except AzuriteError as exc:
        pytest.fail(str(exc), pytrace=False)


def new_queue_name(prefix: str = "sweep") -> str:
    """A fresh queue name (not created: the planner creates its queue on Azurite)."""
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def raw_queue(connection_string: str, name: str) -> QueueClient:
    """A client that hands messages over as stored (no decoding): what the Functions host reads."""
    return QueueClient.from_connection_string(connection_string, name)
