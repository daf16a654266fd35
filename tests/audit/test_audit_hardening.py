"""LocalAuditLog's head mark (replaced atomically; an empty or unreadable one is a problem, not "no head") and
text that is not valid Unicode (a lone surrogate from a malformed event) being recorded, not refused."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from tests.audit.helpers import record
from warden.audit import LocalAuditLog, entry_hash
from warden.audit_review import verify
from warden.cli import main
from warden.errors import AuditWriteError


def _verify_cli(folder: Path) -> int:
    return main(["verify", "--dir", str(folder)])


def test_the_head_mark_is_a_file_of_its_own_replaced_whole(tmp_path: Path) -> None:
    log = LocalAuditLog(tmp_path)
    log.append([record(1)])
    log.append([record(2)])
    last = list(log.entries())[-1]
    assert json.loads((tmp_path / "audit.head").read_text()) == {"seq": 2, "hash": last["hash"]}
    assert log.head_mark() == (2, last["hash"])
    assert (tmp_path / "audit.lock").exists() and not (tmp_path / "audit.head.tmp").exists()


def test_a_crash_before_the_rename_leaves_the_old_mark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    log = LocalAuditLog(tmp_path)
    log.append([record(1)])
    before = log.head_mark()

    def crash(*_: object) -> None:
        raise OSError("simulated crash")

    monkeypatch.setattr("warden.audit.os.replace", crash)
    with caplog.at_level(logging.WARNING, logger="warden.audit"):
        log.append([record(2)])  # the records are durable; only the mark lags
    assert "head mark" in caplog.text
    assert log.head_mark() == before  # the old mark, whole: never empty
    monkeypatch.undo()
    log.append([record(3)])  # a lagging mark never blocks, and is brought up to date
    entries = list(log.entries())
    assert [e["seq"] for e in entries] == [1, 2, 3]
    assert log.head_mark() == (3, entries[-1]["hash"])
    assert verify(entries, head=log.head_mark()).ok


@pytest.mark.parametrize("content", [b"", b"{", b'{"seq": "9"}', b"\xff\xfe"])
def test_an_empty_or_unreadable_head_mark_is_refused_and_reported(
    tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    log = LocalAuditLog(tmp_path)
    log.append([record(1)])
    head = tmp_path / "audit.head"
    head.write_bytes(content)  # e.g. a crash of an older version between truncating and writing it
    with pytest.raises(AuditWriteError, match=r"audit\.head is empty or unreadable.*delete"):
        log.append([record(2)])
    assert [e["seq"] for e in log.entries()] == [1]  # nothing written
    report = verify(log.entries(), head=log.head_mark())
    assert not report.ok
    assert len(report.problems) == 1 and str(head) in report.problems[0]
    assert _verify_cli(tmp_path) == 1
    assert "empty or unreadable" in capsys.readouterr().out
    head.unlink()  # what the message says to do, once verify shows the chain intact
    log.append([record(2)])
    assert verify(log.entries(), head=log.head_mark()).ok


def test_a_lone_surrogate_is_recorded_as_valid_utf8(tmp_path: Path) -> None:
    log = LocalAuditLog(tmp_path)
    raw = '{"id": "\ud800"}'  # what json.loads makes of a malformed event's "\\ud800"
    log.append(
        [
            record(1, kind="event", outcome="rejected", reason=f"malformed event: {raw}", observed={"raw": raw}),
            record(2, reason="pair \ud83d\ude00, reversed \ude00\ud83d", observed={"k\udfff": "x"}),
        ]
    )
    data = (tmp_path / "audit-2024-05-01.jsonl").read_bytes()
    data.decode("utf-8")  # strict: every line is valid UTF-8
    first, second = (json.loads(line) for line in data.splitlines())
    assert first["reason"] == 'malformed event: {"id": "\\ud800"}'
    assert first["observed"] == {"raw": '{"id": "\\ud800"}'}
    assert second["reason"] == "pair \U0001f600, reversed \\ude00\\ud83d"  # a real pair is joined
    assert second["observed"] == {"k\\udfff": "x"}
    assert all(entry_hash(e) == e["hash"] for e in (first, second))  # the hash covers what is stored
    assert verify(log.entries(), head=log.head_mark()).ok
