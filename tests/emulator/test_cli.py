"""`python -m emulator --state FILE` runs alone, printing endpoint and CA; `register()` adds a subcommand."""

from __future__ import annotations

import argparse
import json
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

import requests

from emulator import cli
from tests.conftest import REPO
from tests.emulator.conftest import API, BEARER, account_id, openai_account


def _read_lines(stream: IO[str], count: int, timeout: float) -> list[str]:
    """Read `count` lines without risking a hang if the child never prints them."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return [lines.get(timeout=timeout) for _ in range(count)]


def test_module_runs_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    state = tmp_path / "scenario.json"
    state.write_text(json.dumps({"resources": [openai_account("cli-acct")]}), encoding="utf-8")
    log_out = tmp_path / "requests.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--state", str(state), "--requests-out", str(log_out)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        printed = dict(line.rstrip("\n").split(": ", 1) for line in _read_lines(proc.stdout, 4, timeout=20))
        assert set(printed) == {"endpoint", "vault", "openai", "ca"}
        assert printed["endpoint"].startswith("https://127.0.0.1:")
        assert printed["vault"].startswith("https://127.0.0.1:") and printed["vault"] != printed["endpoint"]
        assert printed["openai"].startswith("https://127.0.0.1:") and len(set(printed.values())) == 4
        assert Path(printed["ca"]).read_text().startswith("-----BEGIN CERTIFICATE-----")
        reply = requests.get(
            printed["endpoint"] + account_id("cli-acct"),
            params={"api-version": API},
            headers=BEARER,
            verify=printed["ca"],
            timeout=10,
        )
        assert reply.json()["name"] == "cli-acct"
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    assert json.loads(log_out.read_text().splitlines()[0])["status"] == 200


def test_bad_state_file_exits_2(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    args = argparse.Namespace(state=missing, port=0, host="127.0.0.1", requests_out=None)
    assert cli.run(args) == 2
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"resources": [{"no": "id"}]}), encoding="utf-8")
    assert cli.run(argparse.Namespace(state=bad, port=0, host="127.0.0.1", requests_out=None)) == 2


def test_register_adds_the_emulator_subcommand() -> None:
    parser = argparse.ArgumentParser(prog="warden")
    cli.register(parser.add_subparsers(dest="command"))
    args: Any = parser.parse_args(["emulator", "--state", "s.json", "--port", "8443"])
    assert args.func is cli.run
    assert (args.state, args.port, args.host) == (Path("s.json"), 8443, "127.0.0.1")
