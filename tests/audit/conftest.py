"""Fixtures for the audit tests: a fresh container in the session's Azurite (tests/azurite.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from azure.storage.blob import ContainerClient

from tests.azurite import new_container


@pytest.fixture
def container_name(azurite: str) -> str:
    """A new, empty container in Azurite (one per test, so tests never see each other's blobs)."""
    return new_container(azurite, "audit")


@pytest.fixture
def container(azurite: str, container_name: str) -> Iterator[ContainerClient]:
    with ContainerClient.from_connection_string(azurite, container_name) as client:
        yield client
