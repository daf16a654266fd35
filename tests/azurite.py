"""The Azurite blob emulator for the whole test session (audit and state tests share one process).

tests/conftest.py re-exports the `azurite` fixture, so every test folder sees the same session instance.
"""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient

REPO = Path(__file__).resolve().parents[1]
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


def new_container(connection_string: str, prefix: str) -> str:
    """Create a new, empty container named `<prefix>-<random>` and return its name."""
    name = f"{prefix}-{uuid.uuid4().hex[:16]}"
    with ContainerClient.from_connection_string(connection_string, name) as client:
        client.create_container()
    return name
