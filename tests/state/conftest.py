"""Fixtures for the state tests: a fresh container in the session's Azurite, and stores that each stand
for one app instance (their own ContainerClient, so nothing is shared in memory between them)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from azure.storage.blob import ContainerClient

from tests.azurite import new_container
from warden.azure.state_blob import BlobStateStore

RID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a"

MakeStore = Callable[..., BlobStateStore]


@pytest.fixture
def container_name(azurite: str) -> str:
    """A new, empty container in Azurite (one per test, so tests never see each other's blobs)."""
    return new_container(azurite, "state")


@pytest.fixture
def container(azurite: str, container_name: str) -> Iterator[ContainerClient]:
    with ContainerClient.from_connection_string(azurite, container_name) as client:
        yield client


@pytest.fixture
def make_store(azurite: str, container_name: str) -> Iterator[MakeStore]:
    """make_store(lock_seconds=900, lock_timeout=30): a BlobStateStore on its own client (one "instance")."""
    clients: list[ContainerClient] = []

    def make(*, lock_seconds: float = 900, lock_timeout: float = 30) -> BlobStateStore:
        client = ContainerClient.from_connection_string(azurite, container_name)
        clients.append(client)
        return BlobStateStore(client, lock_seconds=lock_seconds, lock_timeout=lock_timeout)

    yield make
    for client in clients:
        client.close()
