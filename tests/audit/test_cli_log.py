"""The `log` and `verify` subcommands, called as `python -m warden` does: parse, then args.func(args)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.audit.helpers import record
from warden.audit import LocalAuditLog
from warden.azure.audit_blob import from_settings
from warden.cli import main
from warden.cli_log import format_table, parse_since

ENV = ("WARDEN_AUDIT_DIR", "WARDEN_AUDIT_ACCOUNT_URL", "WARDEN_AUDIT_CONNECTION_STRING", "WARDEN_AUDIT_CONTAINER")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def run(*argv: str) -> int:
    """The command as `warden` runs it: errors become one line and an exit code in warden.cli.main."""
    return main(list(argv))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    log = LocalAuditLog(tmp_path)
    log.append([record(1, name="aoai-prod")])
    log.append(
        [
            record(
                2,
                day=1,
                name="aoai-dev",
                control_id="identity.local-auth",
                outcome="failed",
                change={},
                error="403 AuthorizationFailed",
            )
        ]
    )
    log.append(
        [
            record(
                3,
                day=2,
                name="aoai-test",
                kind="decision",
                mode="dry-run",
                decision="dry-run",
                outcome="would-remediate",
                change={"disableLocalAuth": {"before": None, "after": True}},
            )
        ]
    )
    return tmp_path


def test_log_prints_a_readable_table(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("log", "--dir", str(folder)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "SEQ",
        "TIME",
        "(UTC)",
        "KIND",
        "RESOURCE",
        "CONTROL",
        "MODE",
        "DECISION",
        "OUTCOME",
        "DETAIL",
    ]
    assert len(lines) == 4
    assert lines[1].split()[:9] == [
        "1",
        "2024-05-01",
        "10:01:00",
        "result",
        "aoai-prod",
        "network.public-access",
        "enforce",
        "enforce",
        "remediated",
    ]
    assert lines[1].endswith("publicNetworkAccess Enabled→Disabled")
    assert "aoai-dev" in lines[2]
    assert lines[2].endswith("public network access enabled; error: 403 AuthorizationFailed")
    assert "would-remediate" in lines[3] and lines[3].endswith("disableLocalAuth (unset)→true")
    assert "/subscriptions/" not in "\n".join(lines)  # names in the table, full ids with --json


def test_log_json_lines_are_the_stored_entries(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("log", "--dir", str(folder), "--json") == 0
    entries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert entries == [dict(e) for e in LocalAuditLog(folder).entries()]
    assert entries[0]["resourceId"].startswith("/subscriptions/")


def test_log_filters_and_limit(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def seqs(*argv: str) -> list[int]:
        assert run("log", "--dir", str(folder), "--json", *argv) == 0
        return [json.loads(line)["seq"] for line in capsys.readouterr().out.splitlines()]

    assert seqs("--resource", "AOAI-DEV") == [2]
    assert seqs("--resource", "*/accounts/aoai-*t") == [3]
    assert seqs("--control", "identity.*") == [2]
    assert seqs("--outcome", "failed") == [2]
    assert seqs("--since", "2024-05-02T00:00:00Z") == [2, 3]
    assert seqs("--since", "2024-05-02") == [2, 3]  # a date alone: midnight UTC
    assert seqs("--since", "1h") == []
    assert seqs("--limit", "2") == [2, 3]  # the newest N
    assert seqs("--control", "nothing.*") == []


def test_log_since_does_not_open_older_day_files(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    day1 = folder / "audit-2024-05-01.jsonl"
    day1.unlink()
    day1.mkdir()  # unreadable as a file: only a read that skips 05-01 can succeed
    assert run("log", "--dir", str(folder), "--json", "--since", "2024-05-02T12:00:00Z") == 0
    assert [json.loads(line)["seq"] for line in capsys.readouterr().out.splitlines()] == [3]
    assert run("log", "--dir", str(folder), "--json") == 2  # the whole log: 05-01 is read, and fails
    assert "Is a directory" in capsys.readouterr().err


def test_log_since_reads_only_recent_blobs(
    azurite: str, container_name: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    log = from_settings(None, azurite, container_name)
    for day in range(3):
        log.append([record(day, day=day)])
    # Damage 05-01's blob (possible without an immutability policy): a read from 05-03 never downloads it.
    container = log._container
    container.delete_blob("audit/2024/05/01.jsonl")
    container.upload_blob("audit/2024/05/01.jsonl", b"garbage\n")
    argv = ("log", "--blob-connection-string", azurite, "--container", container_name, "--json")
    assert run(*argv, "--since", "2024-05-03") == 0
    shown = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    # 05-03's rollover marker (the last entry of 05-02's blob, read as the blob just before), then evt-2.
    assert [(e["kind"], e["eventId"]) for e in shown] == [("rollover", ""), ("result", "evt-2")]
    assert "skipping" not in caplog.text
    assert run(*argv) == 0  # the whole log: the damaged line is skipped with a warning (verify reports it)
    assert "skipping audit/2024/05/01.jsonl line 1" in caplog.text
    capsys.readouterr()


def test_log_with_no_match_says_so(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("log", "--dir", str(folder), "--outcome", "ignored") == 0
    assert capsys.readouterr().out.strip() == "(no audit entries)"


def test_since_accepts_ages() -> None:
    now = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)
    assert parse_since("2h", now) == datetime(2024, 5, 10, 10, 0, tzinfo=UTC)
    assert parse_since("7d", now) == datetime(2024, 5, 3, 12, 0, tzinfo=UTC)
    assert parse_since("30m", now) == datetime(2024, 5, 10, 11, 30, tzinfo=UTC)
    assert parse_since("2024-05-01T10:00:00+02:00") == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    with pytest.raises(argparse.ArgumentTypeError):
        parse_since("yesterday")


def test_bad_arguments_exit_through_argparse(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["log", "--since", "soon"],
        ["log", "--limit", "0"],
        ["log", "--dir", "x", "--blob-connection-string", "y"],
    ):
        with pytest.raises(SystemExit) as info:
            run(*argv)
        assert info.value.code == 2
    capsys.readouterr()


def test_verify_ok(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("verify", "--dir", str(folder)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "OK: 3 entries, chain intact"
    assert out[1].startswith("head: seq 3 hash ")


def test_verify_reports_each_problem_and_exits_1(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = folder / "audit-2024-05-02.jsonl"
    path.write_text(path.read_text().replace("AuthorizationFailed", "Succeeded"))
    (folder / "audit-2024-05-01.jsonl").unlink()
    assert run("verify", "--dir", str(folder)) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "audit-2024-05-02.jsonl line 1 (seq 2): altered: content does not match its hash",
        "removed: seq 1 missing between the start and audit-2024-05-02.jsonl line 1",
        "FAILED: 2 problem(s) in 2 entries",
    ]


def test_defaults_come_from_the_environment(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WARDEN_AUDIT_DIR", str(folder))
    assert run("verify") == 0
    assert capsys.readouterr().out.startswith("OK: 3 entries")


def test_a_missing_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("log", "--dir", str(tmp_path / "nope")) == 2
    assert run("verify", "--dir", str(tmp_path / "nope")) == 2
    assert "no audit log folder" in capsys.readouterr().err


def test_blob_source_through_flags_and_environment(
    azurite: str, container_name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from_settings(None, azurite, container_name).append([record(1), record(2, name="aoai-dev")])
    assert run("log", "--blob-connection-string", azurite, "--container", container_name) == 0
    out = capsys.readouterr().out
    assert "aoai-prod" in out and "aoai-dev" in out
    monkeypatch.setenv("WARDEN_AUDIT_CONNECTION_STRING", azurite)
    monkeypatch.setenv("WARDEN_AUDIT_CONTAINER", container_name)
    assert run("verify") == 0
    assert capsys.readouterr().out.startswith("OK: 2 entries, chain intact")
    assert run("verify", "--container", "no-such-container") == 2
    assert "cannot read the audit log" in capsys.readouterr().err


def test_format_table_of_nothing_and_of_odd_entries() -> None:
    assert format_table([]) == "(no audit entries)"
    table = format_table([{"seq": 7, "time": "garbage", "kind": "event", "change": {"x": 1}}])
    assert table.splitlines()[1].split() == ["7", "garbage", "event", "-", "-", "-", "-", "-", "x=1"]
