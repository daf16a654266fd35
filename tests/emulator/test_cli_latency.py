"""`python -m emulator --latency-ms N` delays every request (a latency fault that never fires out); the bench's
tenant-scale section runs the emulator this way (bench/scale.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import requests

from tests.conftest import REPO
from tests.emulator.conftest import API, BEARER, account_id, openai_account
from tests.emulator.test_cli import _read_lines


def _serve(tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    state = tmp_path / "scenario.json"
    state.write_text(json.dumps({"resources": [openai_account("slow-acct")]}), encoding="utf-8")
    cmd = [sys.executable, "-m", "emulator", "--state", str(state), "--requests-out", str(tmp_path / "log.jsonl")]
    return subprocess.Popen([*cmd, *extra], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_latency_applies_to_every_request_and_never_fires_out(tmp_path: Path) -> None:
    proc = _serve(tmp_path, "--latency-ms", "1")
    try:
        assert proc.stdout is not None
        printed = dict(line.rstrip("\n").split(": ", 1) for line in _read_lines(proc.stdout, 4, timeout=20))
        for _ in range(5):
            reply = requests.get(
                printed["endpoint"] + account_id("slow-acct"),
                params={"api-version": API},
                headers=BEARER,
                verify=printed["ca"],
                timeout=10,
            )
            assert reply.json()["name"] == "slow-acct"
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [(e["status"], e.get("fault")) for e in log] == [(200, "latency")] * 5


def test_without_latency_no_fault_is_recorded(tmp_path: Path) -> None:
    proc = _serve(tmp_path)
    try:
        assert proc.stdout is not None
        printed = dict(line.rstrip("\n").split(": ", 1) for line in _read_lines(proc.stdout, 4, timeout=20))
        requests.get(
            printed["endpoint"] + account_id("slow-acct"),
            params={"api-version": API},
            headers=BEARER,
            verify=printed["ca"],
            timeout=10,
        )
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [(e["status"], e.get("fault")) for e in log] == [(200, None)]


def test_negative_latency_exits_2(tmp_path: Path) -> None:
    proc = _serve(tmp_path, "--latency-ms", "-5")
    _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 2
    assert "--latency-ms" in stderr
