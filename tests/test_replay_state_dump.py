"""`warden replay` writes the tenant afterwards (state.json) with account keys only as fingerprints: no file it
writes holds a key the emulator had at any point of the run."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from emulator import Emulator
from warden import cli_replay

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "scenarios" / "demo"
WARDEN_OID = "9d2c7e41-5b3a-4f8e-a1c6-7e0b2d9f3a15"


def test_no_account_key_reaches_any_file_replay_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    dump_state = Emulator.dump_state

    def spying(self: Emulator) -> dict[str, Any]:
        state = dump_state(self)
        seen.extend(v for pair in state.get("accountKeys", {}).values() for v in pair.values())
        return state

    monkeypatch.setattr(Emulator, "dump_state", spying)
    scenario = json.loads((DEMO / "tenant.json").read_text())
    ids = [r["id"] for r in scenario["resources"] if r["type"] == "Microsoft.CognitiveServices/accounts"]
    scenario["accountKeys"] = {rid: {"key1": f"seeded-one-{i}", "key2": f"seeded-two-{i}"} for i, rid in enumerate(ids)}
    state = tmp_path / "tenant.json"
    state.write_text(json.dumps(scenario))
    out = tmp_path / "out"
    args = argparse.Namespace(
        state=str(state),
        events=str(DEMO / "events.json"),
        out=str(out),
        baseline=str(DEMO / "baseline.yaml"),
        mode=None,
        self_object_id=[WARDEN_OID],
        sweep=True,
        now=None,
    )
    assert cli_replay._run(args) == 0
    keys = set(seen) | {k for pair in scenario["accountKeys"].values() for k in pair.values()}
    assert len(keys) > len(ids) * 2  # keys were regenerated during the run, and those are checked too
    written = [p for p in out.rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {"state.json", "audit.jsonl", "requests.jsonl"}
    for path in written:
        text = path.read_text()
        assert not [k for k in keys if k in text], path
    fingerprints = json.loads((out / "state.json").read_text())["accountKeys"]
    assert all(v.startswith("sha256:") for pair in fingerprints.values() for v in pair.values())
