"""The Azurite blob emulator for the whole test session (audit and state tests share one process).

tests/conftest.py re-exports the `azurite` fixture, so every test folder sees the same session instance.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from azure.storage.blob import ContainerClient

from emulator.azurite import AzuriteError
from emulator.azurite import azurite as running_azurite


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start Azurite (blob only, in memory, no telemetry) on a free port; yield its connection string."""
    try:
        with running_azurite(tmp_path_factory.mktemp("azurite")) as connection_string:
            yield connection_string
    except AzuriteError as exc:
        pytest.fail(str(exc), pytrace=False)


def new_container(connection_string: str, prefix: str) -> str:
    """Create a new, empty container named `<prefix>-<random>` and return its name."""
    name = f"{prefix}-{uuid.uuid4().hex[:16]}"
    with ContainerClient.from_connection_string(connection_string, name) as client:
        client.create_container()
    return name
