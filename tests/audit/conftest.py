"""Fixtures for the audit tests: a real Azurite blob emulator for the whole session, and a fresh container."""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient

REPO = Path(__file__).resolve().parents[2]
AZURITE = REPO / "node_modules" / ".bin" / "azurite-blob"
# Azurite's well-known development account: public, documented by Microsoft, valid only for the emulator.
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start Azurite (blob only, in memory, no telemetry) on a free port; yield its connection string."""
    if not AZURITE.exists():
        pytest.fail(
            f"Azurite is not installed ({AZURITE} is missing): run `npm ci` (or `npm install`) in the repository root",
            pytrace=False,
        )
    port = _free_port()
    workdir = tmp_path_factory.mktemp("azurite")
    output = (workdir / "azurite.log").open("wb")
    proc = subprocess.Popen(
        [
            str(AZURITE),
            "--silent",
            "--inMemoryPersistence",
            "--disableTelemetry",
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--skipApiVersionCheck",
            "--extentMemoryLimit",
            "256",
        ],
        cwd=workdir,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"Azurite exited with {proc.returncode}: {(workdir / 'azurite.log').read_text(errors='replace')}",
                    pytrace=False,
                )
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("Azurite did not listen within 30 s", pytrace=False)
                time.sleep(0.05)
        yield (
            f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{port}/{DEV_ACCOUNT};"
        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        output.close()


@pytest.fixture
def container_name(azurite: str) -> Iterator[str]:
    """A new, empty container in Azurite (one per test, so tests never see each other's blobs)."""
    name = f"audit-{uuid.uuid4().hex[:16]}"
    with ContainerClient.from_connection_string(azurite, name) as client:
        client.create_container()
    yield name


@pytest.fixture
def container(azurite: str, container_name: str) -> Iterator[ContainerClient]:
    with ContainerClient.from_connection_string(azurite, container_name) as client:
        yield client
