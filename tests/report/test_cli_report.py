"""`warden report` end to end, as `python -m warden` runs it, on a LocalAuditLog folder."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.report.helpers import LOCAL, Writer, account
from warden.cli import main
from warden.model import Decision, Outcome

ENV = ("WARDEN_AUDIT_DIR", "WARDEN_AUDIT_ACCOUNT_URL", "WARDEN_AUDIT_CONNECTION_STRING", "WARDEN_AUDIT_CONTAINER")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Records of the last hours (the command's `now` is the real clock), and one of 10 days ago."""
    now = datetime.now(UTC)
    w = Writer(tmp_path / "audit")
    w.evaluation(now - timedelta(days=10), account("old"), Outcome.FAILED)
    w.evaluation(now - timedelta(hours=3), account("acct-a"), Outcome.COMPLIANT)
    w.remediation(now - timedelta(hours=2), account("acct-b"), Outcome.REMEDIATED)
    w.decision(now - timedelta(hours=1), account("acct-b"), Decision.NO_REMEDIATOR, control_id=LOCAL)
    return tmp_path / "audit"


def test_report_table(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--dir", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "Totals: 3 resource/control pairs: compliant 1, remediated 1, would-remediate 0, exempt 0, " in out
    (row,) = [line.split() for line in out.splitlines() if line.startswith("acct-b ")]
    assert row[:3] == ["acct-b", LOCAL, "needs-human"]
    assert "old" not in out  # 10 days ago: outside the default 7 days
    assert len(out.split("Trend")[1].strip().splitlines()) == 2 + 8  # title, header, 7 days and part of an 8th


def test_report_days_widens_the_window(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--dir", str(folder), "--days", "11", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["days"] == 11 and doc["totals"]["failed"] == 1 and len(doc["items"]) == 4
    assert len(doc["trend"]) == 12


def test_report_json(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--dir", str(folder), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["totals"] == {
        "compliant": 1,
        "remediated": 1,
        "would-remediate": 0,
        "exempt": 0,
        "needs-human": 1,
        "failed": 0,
    }
    assert [i["controlId"] for i in doc["needsHuman"]] == [LOCAL]


def test_report_html(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "report.html"
    assert main(["report", "--dir", str(folder), "--html", str(target)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == str(target) and out[1].startswith("Totals: 3 resource/control pairs")
    document = target.read_text(encoding="utf-8")
    assert document.startswith("<!DOCTYPE html>") and 'id="total-remediated" data-count="1"' in document


def test_report_reads_the_folder_from_the_environment(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WARDEN_AUDIT_DIR", str(folder))
    assert main(["report", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["compliant"] == 1


def test_errors_are_one_line_and_exit_2(tmp_path: Path, folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--dir", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no audit log folder") and err.count("\n") == 1
    assert main(["report", "--dir", str(folder), "--html", str(tmp_path / "no" / "such" / "dir.html")]) == 2
    assert capsys.readouterr().err.startswith("error: ")


@pytest.mark.parametrize("argv", [["--days", "0"], ["--days", "x"], ["--json", "--html", "f.html"]])
def test_bad_arguments_exit_through_argparse(folder: Path, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["report", "--dir", str(folder), *argv])
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_report_since_takes_an_age(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--dir", str(folder), "--since", "150m", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    # 2.5 hours back: acct-a's record (3 hours ago) is out; acct-b's two are in.
    assert doc["days"] == 1 and sorted(i["controlId"] for i in doc["items"]) == sorted([LOCAL, "network.public-access"])
    assert doc["totals"]["compliant"] == 0
    assert main(["report", "--dir", str(folder), "--since", "11d", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["failed"] == 1  # the record of 10 days ago is in


def test_report_since_and_days_exclude_each_other(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["report", "--dir", str(folder), "--since", "24h", "--days", "2"])
    assert refused.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
