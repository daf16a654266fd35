"""Azurite's queue service for the tests of the sweep's fan-out (docs/scale.md "Fan-out"): one process per
session, in memory, beside the session's blob Azurite, so that one connection string names both endpoints of
the same (development) storage account, as the state store and the sweep queue share one account in Azure.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from azure.storage.queue import QueueClient

from emulator.azurite import AzuriteError, azurite_queue


@pytest.fixture(scope="session")
def azurite_storage(azurite: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A connection string with the session's blob endpoint and a queue endpoint: one development account."""
    try:
        with azurite_queue(tmp_path_factory.mktemp("azurite-queue")) as queue_endpoint:
            yield azurite + queue_endpoint
    except AzuriteError as exc:
        pytest.fail(str(exc), pytrace=False)


def new_queue_name(prefix: str = "sweep") -> str:
    """A fresh queue name (not created: the planner creates its queue on Azurite)."""
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def raw_queue(connection_string: str, name: str) -> QueueClient:
    """A client that hands messages over as stored (no decoding): what the Functions host reads."""
    return QueueClient.from_connection_string(connection_string, name)
