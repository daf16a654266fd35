"""Hostile bytes in the audit log: a foreign append without a newline, garbled lines, control characters and
lone surrogates in stored ids, and how `log`, `verify` and the blob writer deal with them (docs/audit.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient

from tests.audit.helpers import ACCOUNT, record
from warden.audit import GENESIS_HASH, LocalAuditLog, chain
from warden.audit_review import filter_entries, verify
from warden.azure.audit_blob import BlobAuditLog
from warden.azure.audit_blob_read import START_BLOB
from warden.cli import main
from warden.cli_log import format_table

BLOB = "audit/2024/05/01.jsonl"


def run(*argv: str) -> int:
    return main(list(argv))


@pytest.mark.parametrize("same_instance", [True, False], ids=["cached-head", "new-instance"])
def test_a_batch_after_a_foreign_append_starts_on_a_fresh_line(container: ContainerClient, same_instance: bool) -> None:
    log = BlobAuditLog(container)
    log.append([record(1)])
    container.get_blob_client(BLOB).append_block(b"foreign bytes, no newline")  # anyone with write access
    (log if same_instance else BlobAuditLog(container)).append([record(2)])
    log.append([record(3)])
    entries = list(log.entries())
    assert [e.get("eventId") for e in entries] == ["evt-1", None, "evt-2", "evt-3"]
    assert [e["eventId"] for e in filter_entries(entries)] == ["evt-1", "evt-2", "evt-3"]  # what log and the API show
    report = verify(entries)
    assert report.problems == (f"{BLOB} line 2: unreadable line (truncated or not JSON)",)  # nothing missing


def _garbled_lines() -> list[bytes]:
    data, _, _ = chain([record(n) for n in range(1, 5)], 0, GENESIS_HASH)
    lines = data.splitlines(keepends=True)
    return [lines[0], b"foreign bytes" + lines[1], *lines[2:]]  # seq 2 glued onto garbage (the old writer)


def test_verify_names_the_seq_lost_in_a_garbled_line(tmp_path: Path) -> None:
    (tmp_path / "audit-2024-05-01.jsonl").write_bytes(b"".join(_garbled_lines()))
    report = verify(LocalAuditLog(tmp_path).entries())
    assert report.problems == (
        "audit-2024-05-01.jsonl line 2: unreadable line (truncated or not JSON)",
        "unreadable: seq 2 missing between audit-2024-05-01.jsonl line 1 (seq 1) and "
        "audit-2024-05-01.jsonl line 3 (1 unreadable line)",
    )


def test_verify_names_the_seqs_lost_in_garbled_lines_of_a_blob(container: ContainerClient) -> None:
    blob = container.get_blob_client(BLOB)
    blob.create_append_blob()
    lines = _garbled_lines()
    lines[2] = b"more garbage" + lines[2]
    for line in lines:
        blob.append_block(line)
    problems = verify(BlobAuditLog(container).entries()).problems
    assert f"{BLOB} line 3: unreadable line (truncated or not JSON)" in problems
    assert problems[-1] == (
        f"unreadable: seq 2-3 missing between {BLOB} line 1 (seq 1) and {BLOB} line 4 (2 unreadable lines)"
    )


def test_a_foreign_line_between_intact_entries_is_unreadable_and_their_link_still_checked(tmp_path: Path) -> None:
    lines = _garbled_lines()
    lines[1] = b"foreign\n" + lines[1][len(b"foreign bytes") :]
    third = json.loads(lines[2])
    third["prev_hash"] = "f" * 64  # a broken link right after the foreign line is still seen
    lines[2] = json.dumps(third).encode() + b"\n"
    (tmp_path / "audit-2024-05-01.jsonl").write_bytes(b"".join(lines))
    problems = verify(LocalAuditLog(tmp_path).entries()).problems
    assert problems[0] == "audit-2024-05-01.jsonl line 2: unreadable line (truncated or not JSON)"
    assert any("line 4 (seq 3): altered" in p for p in problems)
    assert not any("missing" in p for p in problems)


HOSTILE = {
    "newline": "aoai-x\n9    2024-05-01 10:00:00  result    aoai-fake  network.public-access  enforce  remediated",
    "carriage return": "aoai-x\rFAKE",
    "escape": "aoai-\x1b[2J\x1b[31mx",
    "line separator": "aoai-x\u2028FAKE",
    "bidi override": "aoai-\u202ex-dorp",
    "C1 next line": "aoai-x\x85FAKE",
}


@pytest.mark.parametrize("name", list(HOSTILE.values()), ids=list(HOSTILE))
def test_the_log_table_escapes_control_characters(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    log = LocalAuditLog(tmp_path)
    log.append([record(1, name=name, reason=f"about {name}", change={}, error=name)])
    assert run("log", "--dir", str(tmp_path)) == 0
    out = capsys.readouterr().out
    table = format_table(log.entries())
    assert out == table + "\n"
    assert len(table.splitlines()) == 2  # the header and one row: no forged row
    for line in table.split("\n"):
        assert not re.search("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]", line)
    assert "\\" in table.splitlines()[1]  # shown escaped, not dropped


def test_a_forged_lone_surrogate_is_shown_escaped_and_reported_not_fatal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = LocalAuditLog(tmp_path)
    log.append([record(1, event_id="evt-\ud800", name="aoai-\udfff")])  # stored as the six characters \ud800
    path = tmp_path / "audit-2024-05-01.jsonl"
    forged = json.loads(path.read_text())
    forged["resourceId"] = ACCOUNT.format(name="aoai-\ud800")  # a real lone surrogate, as "\ud800" in JSON
    path.write_text(json.dumps(forged) + "\n")
    assert run("log", "--dir", str(tmp_path)) == 0
    assert "aoai-\\ud800" in capsys.readouterr().out
    assert run("log", "--dir", str(tmp_path), "--json") == 0
    assert json.loads(capsys.readouterr().out)["resourceId"].endswith("aoai-\ud800")
    assert run("verify", "--dir", str(tmp_path)) == 1  # altered (not "cannot read the log")
    out = capsys.readouterr().out
    assert "line 1 (seq 1): altered: content does not match its hash" in out


def test_cli_error_lines_escape_control_characters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "no\x1b[2Jsuch\nfolder")
    assert run("log", "--dir", missing) == 2
    assert run("verify", "--dir", missing) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and err.count("\n") == 2
    assert "no\\x1b[2Jsuch\\nfolder" in err


def test_writers_of_an_empty_log_on_different_days_start_one_chain(container: ContainerClient) -> None:
    """Both writers saw an empty log; one writes a day-2 batch first, then the other its day-1 batch. Before,
    each appended at position 0 of its own day's blob: two chains, each from seq 1 (a fork verify reports)."""
    early, late = BlobAuditLog(container), BlobAuditLog(container)
    early._head = early._read_head()  # it read the (empty) head before the other wrote: the race, made certain
    late.append([record(1, day=1)])
    early.append([record(2, day=0)])

    entries = list(BlobAuditLog(container).entries())
    assert [(e["seq"], e["eventId"]) for e in entries] == [(1, "evt-1"), (2, "evt-2")]
    assert verify(entries).ok
    assert [b.name for b in container.list_blobs(name_starts_with="audit/")] == ["audit/2024/05/02.jsonl"]
    assert container.download_blob(START_BLOB).readall() == b"audit/2024/05/02.jsonl"


def test_a_garbled_start_marker_does_not_stop_the_log(container: ContainerClient) -> None:
    container.upload_blob(START_BLOB, b"../../not-a-blob")
    log = BlobAuditLog(container)
    log.append([record(1)])
    assert [e["seq"] for e in log.entries()] == [1]
