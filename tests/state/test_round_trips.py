"""Azure Storage round trips per event on the production path (blob state store and blob audit sink on Azurite,
the ARM emulator for the account): the exact request sequences of bench/storage_trips.py, which are deterministic.
"""

from __future__ import annotations

from pathlib import Path

from bench.storage_trips import measure, shape

READ_STATE, WRITE_STATE = ("GET", "resources/<sha>.json"), ("PUT", "resources/<sha>.json")
APPEND = ("PUT", "audit/<day>.jsonl?comp=appendblock")
RESERVE = ("PUT", "attempts/<sha>.json")  # the tenant-wide counter, written on this instance's last copy

#: One read of the resource's state (done markers, pending steps, attempts, lock), the claim of its lock (a write
#: on the etag read), the tenant reservation, the intent, the result, and one write of the resource's state
#: (attempt, done marker) that releases the lock. A first event costs the same (the claim creates the blob).
DRIFTED = [READ_STATE, WRITE_STATE, RESERVE, APPEND, APPEND, WRITE_STATE]
#: One read of the resource's state, the compliant record, the done marker: no lock (nothing to enforce).
COMPLIANT = [READ_STATE, APPEND, WRITE_STATE]


def test_each_event_class_costs_its_exact_storage_requests(azurite: str, tmp_path: Path) -> None:
    result = measure(azurite, tmp_path)
    seen = {cls: shape(figures["requests"]) for cls, figures in result["classes"].items()}
    assert seen["drifted (first)"] == seen["drifted (again)"] == DRIFTED
    assert seen["compliant (first)"] == seen["compliant (again)"] == COMPLIANT
    assert seen["echo (first)"] == seen["echo (again)"] == []  # no state, its trace record held back
    arm = {cls: [m for m, _ in figures["arm"]] for cls, figures in result["classes"].items()}
    assert arm["drifted (again)"].count("PATCH") == 1  # the ARM sequences are tests/integration's to pin
    assert arm["compliant (again)"] == ["GET"] and arm["echo (again)"] == []
    # 200 echoes: their trace is one append block (held back, written on flush).
    assert result["echo_amortized"]["requests"] == 1
