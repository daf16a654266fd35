"""Azurite, the Azure Storage emulator (npm package `azurite`), started for a test session or a benchmark: its blob
or queue service, in memory, no telemetry, on a free loopback port. The tests' fixtures and bench/ share it.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

AZURITE = Path(__file__).resolve().parents[1] / "node_modules" / ".bin" / "azurite-blob"
# Azurite's well-known development account: public, documented by Microsoft, valid only for the emulator.
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class AzuriteError(RuntimeError):
    """Azurite is not installed, exited, or did not listen in time; the message says which and how to fix it."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _service(workdir: Path, service: str, extra: list[str]) -> Iterator[int]:
    """One Azurite service (`blob` or `queue`) running for the duration, its log in workdir; yields its port."""
    binary = AZURITE.with_name(f"azurite-{service}")
    if not binary.exists():
        raise AzuriteError(
            f"Azurite is not installed ({binary} is missing): run `npm ci` (or `npm install`) in the repository root"
        )
    port = _free_port()
    args = ["--silent", "--inMemoryPersistence", "--disableTelemetry", f"--{service}Host", "127.0.0.1"]
    args += [f"--{service}Port", str(port), "--skipApiVersionCheck", *extra]
    log_path = workdir / f"azurite-{service}.log"
    with log_path.open("wb") as output:
        proc = subprocess.Popen([str(binary), *args], cwd=workdir, stdout=output, stderr=subprocess.STDOUT)
        try:
            _wait_listening(proc, port, log_path)
            yield port
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def azurite(workdir: Path) -> Iterator[str]:
    """Azurite's blob service running for the duration; yields its connection string."""
    with _service(workdir, "blob", ["--extentMemoryLimit", "256"]) as port:
        yield (
            f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{port}/{DEV_ACCOUNT};"
        )


@contextmanager
def azurite_queue(workdir: Path) -> Iterator[str]:
    """Azurite's queue service running for the duration; yields its `QueueEndpoint=...;` connection part, to
    append to the blob service's connection string (one development account, as in Azure)."""
    with _service(workdir, "queue", []) as port:
        yield f"QueueEndpoint=http://127.0.0.1:{port}/{DEV_ACCOUNT};"


def _wait_listening(proc: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise AzuriteError(f"Azurite exited with {proc.returncode}: {log_path.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise AzuriteError("Azurite did not listen within 30 s") from None
            time.sleep(0.05)
