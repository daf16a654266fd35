"""Time, hooks and faults on the Azure OpenAI data plane: jobs that complete by the shared clock, the
on_request hook (a job that starts running between a listing and a delete), set_job_status, and faults in the
plane's error shape."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests

from emulator import Emulator
from emulator.training_builders import fine_tuning_job
from tests.emulator.conftest import account_id
from tests.emulator.test_openai_data import FILES, NOW, ONE, call, job, scenario


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(scenario()) as running:
        yield running


# --- time, hooks and faults --------------------------------------------------------------------------------
def test_a_running_job_completes_by_the_clock() -> None:
    finish = NOW + timedelta(hours=1)
    running = fine_tuning_job(
        status="running",
        training_file=FILES[0]["id"],
        result_files=["file-results0000000000000000000000000"],
        created_at=NOW - timedelta(hours=1),
        estimated_finish=finish,
    )
    with Emulator(scenario(jobs=[running])) as emu:
        before = call(emu, "GET", f"/fine_tuning/jobs/{running['id']}").json()
        assert (before["status"], "finished_at" in before) == ("running", False)
        assert call(emu, "GET", "/files/file-results0000000000000000000000000").status_code == 404
        emu.clock.advance(3599)
        assert call(emu, "GET", f"/fine_tuning/jobs/{running['id']}").json()["status"] == "running"
        emu.clock.advance(1)
        after = call(emu, "GET", f"/fine_tuning/jobs/{running['id']}").json()
        assert (after["status"], after["finished_at"]) == ("succeeded", int(finish.timestamp()))
        results = call(emu, "GET", "/files/file-results0000000000000000000000000").json()
        assert (results["purpose"], results["created_at"], results["status"]) == (
            "fine-tune-results",
            int(finish.timestamp()),
            "processed",
        )
        assert call(emu, "DELETE", f"/files/{FILES[0]['id']}").status_code == 200  # the job has ended


def test_a_job_completes_in_a_dump_without_any_request() -> None:
    due = fine_tuning_job(status="queued", training_file="file-t", created_at=NOW, estimated_finish=NOW)
    with Emulator(scenario(jobs=[due])) as emu:
        assert emu.dump_state()["openaiData"][ONE]["jobs"][0]["status"] == "succeeded"


def test_on_request_flips_a_job_before_the_delete_lands() -> None:
    """The race warden must survive: the job starts running between its listing and its delete."""
    file_id = FILES[0]["id"]
    waiting = job("succeeded", training_file=file_id)
    with Emulator(scenario(jobs=[waiting])) as emu:
        listed = call(emu, "GET", "/fine_tuning/jobs").json()
        assert listed["data"][0]["status"] == "succeeded"
        emu.on_request("DELETE", f"/files/{file_id}$", lambda: emu.set_job_status(ONE, waiting["id"], "running"))
        assert call(emu, "DELETE", f"/files/{file_id}").status_code == 409
        assert call(emu, "GET", f"/fine_tuning/jobs/{waiting['id']}").json()["status"] == "running"
        calls: list[str] = []
        emu.on_request("*", "/files$", lambda: calls.append("x"), count=2)
        for _ in range(3):
            call(emu, "GET", "/files")
        assert calls == ["x", "x"]  # fired twice, then expired


def test_a_failing_hook_fails_its_request() -> None:
    def boom() -> None:
        raise RuntimeError("hook bug")

    with Emulator(scenario()) as emu:
        emu.on_request("GET", "/files$", boom)
        failed = call(emu, "GET", "/files")
        assert (failed.status_code, failed.json()["error"]["code"]) == (500, "internalFailure")
        assert call(emu, "GET", "/files").status_code == 200


def test_set_job_status_checks_its_arguments(emu: Emulator) -> None:
    with pytest.raises(KeyError):
        emu.set_job_status(ONE, "ftjob-nope", "running")
    with pytest.raises(KeyError):
        emu.set_job_status(account_id("nope"), "ftjob-nope", "running")
    made = call(emu, "POST", "/fine_tuning/jobs", json={"model": "m", "training_file": FILES[0]["id"]}).json()
    with pytest.raises(ValueError, match="unknown job status"):
        emu.set_job_status(ONE, made["id"], "sleeping")
    emu.set_job_status(ONE.upper(), made["id"], "succeeded")  # account ids compare case-insensitively
    assert call(emu, "GET", f"/fine_tuning/jobs/{made['id']}").json()["finished_at"] == int(NOW.timestamp())


def test_faults_answer_in_the_planes_shape(emu: Emulator) -> None:
    emu.add_fault("GET", "^/aoai-one/openai/files$", "throttle", retry_after=2)
    throttled = call(emu, "GET", "/files")
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "2"
    assert throttled.json()["error"]["code"] == "tooManyRequests"
    emu.add_fault("DELETE", "/files/", "server-error")
    failed = call(emu, "DELETE", f"/files/{FILES[0]['id']}")
    assert (failed.status_code, failed.json()["error"]["code"]) == (503, "serviceUnavailable")
    assert [r.fault for r in emu.requests] == ["throttle", "server-error"]
    assert all("apim-request-id" in r.headers for r in (throttled, failed))


def test_on_request_is_the_kernels_and_works_on_every_port(emu: Emulator) -> None:
    seen: list[int] = []
    emu.on_request("GET", "/accounts/aoai-one$", lambda: seen.append(len(emu.requests)))
    got = requests.get(
        f"{emu.endpoint}{ONE}",
        params={"api-version": "2025-09-01"},
        headers={"Authorization": "Bearer t"},
        verify=emu.ca_path,
        timeout=10,
    )
    assert (got.status_code, seen) == (200, [0])  # ran before the request was served and recorded
