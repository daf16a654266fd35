"""Azurite, the Azure Storage emulator (npm package `azurite`), started for a test session or a benchmark: blob
service only, in memory, no telemetry, on a free loopback port. The tests' fixture and bench/ share it.
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
def azurite(workdir: Path) -> Iterator[str]:
    """Azurite running for the duration (its log in `workdir/azurite.log`); yields its connection string."""
    if not AZURITE.exists():
        raise AzuriteError(
            f"Azurite is not installed ({AZURITE} is missing): run `npm ci` (or `npm install`) in the repository root"
        )
    port = _free_port()
    args = ["--silent", "--inMemoryPersistence", "--disableTelemetry", "--blobHost", "127.0.0.1"]
    args += ["--blobPort", str(port), "--skipApiVersionCheck", "--extentMemoryLimit", "256"]
    log_path = workdir / "azurite.log"
    with log_path.open("wb") as output:
        proc = subprocess.Popen([str(AZURITE), *args], cwd=workdir, stdout=output, stderr=subprocess.STDOUT)
        try:
            _wait_listening(proc, port, log_path)
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
