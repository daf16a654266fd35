"""data.training-files end to end: the emulator's files and fine-tuning data plane, read with warden's Entra
token through its azure-core pipeline; the request log counts every listing and every DELETE."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from emulator.builders import account, account_id
from emulator.training_builders import fine_tuning_job, openai_data, training_file
from tests.integration.conftest import baseline_text
from tests.integration.kv_world import records
from warden.cli_replay import replay
from warden.model import Mode, Trigger
from warden.settings import RetryOptions
from warden.sweep import sweep

T0 = datetime(2026, 11, 1, tzinfo=UTC)
RID = account_id("aoai-ft")
# Key auth off, as identity.local-auth leaves it: the data plane refuses any api-key, so reading it proves the
# Entra token (the emulator checks it: docs/emulator.md).
ACCOUNT = account("aoai-ft", disableLocalAuth=True)
TRAINING = "  data.training-files:\n    retention_days: 7\n    orphan_retention_days: 30\n"


def f(name: str, days_old: float, purpose: str = "fine-tune") -> dict[str, Any]:
    return training_file(
        f"file-{name}", filename=f"{name}.jsonl", purpose=purpose, created_at=T0 - timedelta(days=days_old)
    )


def three_jobs() -> dict[str, Any]:
    """A succeeded job past retention, a running one, a failed one within retention, and two orphans."""
    ended = {"created_at": T0 - timedelta(days=12), "finished_at": T0 - timedelta(days=10)}
    ok = fine_tuning_job(
        "ftjob-ok",
        status="succeeded",
        training_file="file-ok-train",
        validation_file="file-ok-valid",
        result_files=["file-ok-results"],
        **ended,
    )
    running = fine_tuning_job(
        "ftjob-run",
        status="running",
        training_file="file-run-train",
        validation_file="file-run-valid",
        created_at=T0 - timedelta(days=1),
    )
    failed = fine_tuning_job(
        "ftjob-failed",
        status="failed",
        training_file="file-failed-train",
        created_at=T0 - timedelta(days=4),
        finished_at=T0 - timedelta(days=3),
    )
    files = [f("ok-train", 40), f("ok-valid", 40), f("ok-results", 10, "fine-tune-results")]
    files += [f("run-train", 5), f("run-valid", 5), f("failed-train", 9), f("orphan-old", 45), f("orphan-new", 3)]
    files.append(f("assistant", 400, "assistants"))  # not training data: never looked at
    jobs = [ok, running, failed]
    return {**openai_data(RID, files, jobs), "openaiOptions": {"maxPageSize": 2}, "clock": {"now": T0.isoformat()}}


def deletes(requests: Any) -> list[str]:
    return sorted(r.path.rsplit("/", 1)[-1] for r in requests if r.method == "DELETE")


def run_sweep(world: Any, mode: Mode | None = None) -> None:
    rt = dataclasses.replace(world.runtime, mode_override=mode) if mode else world.runtime
    sweep(rt, Trigger.SWEEP, data_plane=True)


def test_only_finished_jobs_files_past_retention_and_old_orphans_are_deleted_once_each(make_world) -> None:
    world = make_world([ACCOUNT], baseline_text(extra=TRAINING), sections=three_jobs())
    run_sweep(world)
    data = world.requests("openai")
    assert deletes(data) == ["file-ok-results", "file-ok-train", "file-ok-valid", "file-orphan-old"]
    assert all(r.status == 200 for r in data if r.method == "DELETE")
    left = {x["id"] for x in world.emulator.dump_state()["openaiData"][RID]["files"]}
    assert left == {"file-run-train", "file-run-valid", "file-failed-train", "file-orphan-new", "file-assistant"}
    # Listed to the end: 9 training files at 2 per page, across two purposes, and every page of jobs.
    listings = [r for r in data if r.method == "GET" and r.path.endswith("/files")]
    assert [r.query.get("purpose") for r in listings].count("fine-tune") == 4  # 7 files: 2+2+2+1
    assert [r.query.get("purpose") for r in listings].count("fine-tune-results") == 1
    assert all(r.path.startswith("/aoai-ft/openai/v1/") for r in data)
    # One record per deleted file, with its metadata and jobs, never its content.
    results = [r for r in records(world, "data.training-files", "result") if r["outcome"] == "remediated"]
    assert sorted(r["observed"]["fileId"] for r in results) == [
        "file-ok-results",
        "file-ok-train",
        "file-ok-valid",
        "file-orphan-old",
    ]
    ok = next(r for r in results if r["observed"]["fileId"] == "file-ok-train")
    assert ok["observed"]["jobs"] == [
        {"id": "ftjob-ok", "status": "succeeded", "finishedAt": (T0 - timedelta(days=10)).isoformat()}
    ]
    assert {"filename", "purpose", "bytes", "createdAt"} <= set(ok["observed"])


def test_dry_run_deletes_nothing_and_says_what_it_would(make_world) -> None:
    world = make_world([ACCOUNT], baseline_text(extra=TRAINING), sections=three_jobs())
    run_sweep(world, Mode.DRY_RUN)
    assert deletes(world.requests("openai")) == []
    would = records(world, "data.training-files")
    would_delete = sorted(r["observed"]["fileId"] for r in would if r["outcome"] == "would-remediate")
    assert would_delete == ["file-ok-results", "file-ok-train", "file-ok-valid", "file-orphan-old"]


def test_a_job_that_starts_running_between_listing_and_deleting_keeps_its_files(make_world) -> None:
    world = make_world([ACCOUNT], baseline_text(extra=TRAINING), sections=three_jobs())
    emu, seen = world.emulator, []

    def jobs_page() -> None:
        # The detector's listing is two pages (3 jobs, 2 per page); the third page served is the first of the
        # re-check before the first DELETE: the succeeded job is running again (reusing its training data).
        seen.append(1)
        if len(seen) == 3:
            emu.set_job_status(RID, "ftjob-ok", "running")

    emu.on_request("GET", r"/fine_tuning/jobs$", jobs_page, count=50)
    run_sweep(world)
    assert deletes(world.requests("openai")) == ["file-orphan-old"]
    kept = [r for r in records(world, "data.training-files", "result") if r["outcome"] == "failed"]
    assert {r["observed"]["fileId"] for r in kept} == {"file-ok-results", "file-ok-train", "file-ok-valid"}
    assert all("job ftjob-ok (running) started using it" in r["error"] for r in kept)


def test_replay_now_past_the_retention_deletes_the_failed_jobs_file(tmp_path: Path) -> None:
    scenario = {"resources": [ACCOUNT], **three_jobs()}
    baseline = tmp_path / "baseline.yaml"
    baseline.write_text(baseline_text(extra=TRAINING))
    deleted = {}
    for days in (3, 5):  # the failed job ended 3 days before T0; retention is 7 days
        run = replay(
            scenario,
            [],
            baseline_path=baseline,
            work_dir=tmp_path / str(days),
            run_sweep=True,
            now=T0 + timedelta(days=days),
        )
        deleted[days] = sorted(r["path"].rsplit("/", 1)[-1] for r in run.requests if r["method"] == "DELETE")
    assert "file-failed-train" not in deleted[3]
    assert "file-failed-train" in deleted[5]
    assert "file-run-train" not in deleted[5] and "file-orphan-new" not in deleted[5]


def test_the_per_run_cap_counts_each_deletion(make_world) -> None:
    world = make_world([ACCOUNT], baseline_text(extra=TRAINING, max_actions=2), sections=three_jobs())
    run_sweep(world)
    assert len(deletes(world.requests("openai"))) == 2
    blocked = [r for r in records(world, "data.training-files") if r["outcome"] == "blocked"]
    assert len(blocked) == 2 and all("per-run cap of 2 actions reached" in r["reason"] for r in blocked)


def test_a_file_already_gone_counts_as_deleted(make_world) -> None:
    world = make_world([ACCOUNT], baseline_text(extra=TRAINING), sections=three_jobs())
    world.emulator.add_fault("DELETE", "/aoai-ft/openai/v1/files/file-orphan-old", "not-found")
    run_sweep(world)
    results = {r["observed"]["fileId"]: r["outcome"] for r in records(world, "data.training-files", "result")}
    assert results["file-orphan-old"] == "remediated"


def test_a_data_plane_that_cannot_be_read_is_a_failed_record_never_compliant(make_world) -> None:
    both = TRAINING + "  ai.jailbreak-filter:\n"
    fast = RetryOptions(total=0)
    world = make_world([ACCOUNT], baseline_text(extra=both), sections=three_jobs(), retry=fast)
    world.emulator.add_fault("GET", "/aoai-ft/openai/v1/files", "server-error", count=10)
    report = sweep(world.runtime, Trigger.SWEEP)  # the ARM controls and the data plane's
    [failed] = records(world, "data.training-files")
    assert failed["outcome"] == "failed" and "503" in failed["error"]
    assert [r["outcome"] for r in records(world, "ai.jailbreak-filter")] == ["compliant"]  # judged all the same
    assert deletes(world.requests("openai")) == [] and report.errors  # the sweep reports it too
