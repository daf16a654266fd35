"""data.training-files detector: which fine-tuning files are leftover, on data built in code."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from detectors.data_training_files import CONTROL, Params, _fine_tuned_deployment
from remediators.delete_training_file import DeleteTrainingFile
from tests.detectors.given import NOW, RID, Given, snapshot
from warden.ai_model import Deployment, FineTuningJob, TrainingData, TrainingFile
from warden.control import ParamError
from warden.params_ai import file_exemptions

ENDPOINT = "https://a.openai.azure.com/"


def file(file_id: str, *, age_days: float = 400, purpose: str = "fine-tune", name: str = "") -> TrainingFile:
    return TrainingFile(file_id, name or f"{file_id}.jsonl", purpose, 1024, NOW - timedelta(days=age_days))


def job(
    job_id: str, status: str, *files: str, ended_days_ago: float | None = 10, results: tuple[str, ...] = ()
) -> FineTuningJob:
    ended = NOW - timedelta(days=ended_days_ago) if ended_days_ago is not None else None
    validation = files[1] if len(files) > 1 else None
    return FineTuningJob(job_id, status, NOW - timedelta(days=60), ended, files[0], validation, results)


def given(files: list[TrainingFile], jobs: list[FineTuningJob], **kwargs: object) -> Given:
    data = TrainingData(ENDPOINT, tuple(files), tuple(jobs))
    return Given(snapshot(endpoint=ENDPOINT), training=data, **kwargs)  # type: ignore[arg-type]


def deleted(facts: Given, params: Params | None = None) -> list[str]:
    out = []
    for finding in CONTROL.detect(facts, params or Params()):
        [step] = finding.fix
        assert isinstance(step, DeleteTrainingFile) and finding.resource_id == RID
        out.append(step.file_id)
    return out


def test_the_files_of_a_succeeded_job_are_leftover_at_once_by_default() -> None:
    facts = given(
        [file("file-t"), file("file-v"), file("file-r", purpose="fine-tune-results")],
        [job("ft-1", "succeeded", "file-t", "file-v", results=("file-r",))],
    )
    assert deleted(facts) == ["file-r", "file-t", "file-v"]


@pytest.mark.parametrize("status", ["pending", "queued", "validating_files", "running", "created", "paused"])
def test_a_file_of_a_job_that_is_not_terminal_is_never_touched(status: str) -> None:
    # Also when another job that used it finished long ago, and for states the service may add later.
    facts = given(
        [file("file-t")], [job("ft-1", "succeeded", "file-t"), job("ft-2", status, "file-t", ended_days_ago=None)]
    )
    assert deleted(facts) == []


def test_retention_counts_from_the_last_job_that_used_the_file() -> None:
    facts = given(
        [file("file-t")],
        [job("ft-1", "failed", "file-t", ended_days_ago=40), job("ft-2", "cancelled", "file-t", ended_days_ago=5)],
    )
    assert deleted(facts, Params(retention_days=7)) == []
    assert deleted(facts, Params(retention_days=5)) == ["file-t"]


def test_an_orphan_is_kept_until_its_own_window_has_passed() -> None:
    facts = given([file("file-new", age_days=3), file("file-old", age_days=31)], [])
    assert deleted(facts) == ["file-old"]
    assert deleted(facts, Params(orphan_retention_days=2)) == ["file-new", "file-old"]


def test_other_purposes_are_not_training_data() -> None:
    facts = given([file("file-a", purpose="assistants"), file("file-b", purpose="batch")], [])
    assert deleted(facts) == []


def test_the_audit_view_has_metadata_and_job_states_never_content() -> None:
    facts = given([file("file-t", name="customers.jsonl")], [job("ft-1", "succeeded", "file-t")])
    [finding] = CONTROL.detect(facts, Params())
    assert finding.observed == {
        "fileId": "file-t",
        "filename": "customers.jsonl",
        "purpose": "fine-tune",
        "bytes": 1024,
        "createdAt": (NOW - timedelta(days=400)).isoformat(),
        "jobs": [{"id": "ft-1", "status": "succeeded", "finishedAt": (NOW - timedelta(days=10)).isoformat()}],
        "retainedSince": (NOW - timedelta(days=10)).isoformat(),
    }
    assert finding.fix[0].target == "https://a.openai.azure.com/openai/files/file-t"


def test_an_exempt_file_carries_its_exemption_for_the_planner() -> None:
    exemptions = file_exemptions(
        [
            {"filename": "GOLDEN-*.jsonl", "reason": "reference set", "owner": "a@b.c", "expires": date(2027, 1, 31)},
            {"file": "file-x", "reason": "old", "owner": "a@b.c", "expires": "2026-01-01"},
        ]
    )
    facts = given([file("file-g", name="golden-eval.jsonl"), file("file-x"), file("file-y")], [])
    by_file = {f.fix[0].file_id: f.exemption for f in CONTROL.detect(facts, Params(exempt_files=exemptions))}  # type: ignore[attr-defined]
    assert by_file["file-g"] is not None and by_file["file-g"].expires == datetime(2027, 2, 1, tzinfo=UTC)
    assert by_file["file-x"] is not None and by_file["file-x"].expires < NOW  # expired: enforced again, named
    assert by_file["file-y"] is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ([{"file": "f", "filename": "g", "reason": "r", "owner": "o", "expires": "2027-01-01"}], "exactly one of"),
        ([{"file": "f", "reason": "", "owner": "o", "expires": "2027-01-01"}], "reason must be"),
        ([{"file": "f", "reason": "r", "owner": "o"}], "expires must be"),
        ([{"file": "f", "reason": "r", "owner": "o", "expires": "2027-01-01T00:00:00"}], "no time zone"),
        ([{"file": "f", "reason": "r", "owner": "o", "expires": "2027-01-01", "until": 1}], "unknown keys"),
        ("file-x", "expected a list"),
    ],
)
def test_invalid_file_exemptions_are_refused(value: object, problem: str) -> None:
    with pytest.raises(ParamError, match=problem):
        file_exemptions(value)


def test_no_endpoint_is_a_finding_for_a_human() -> None:
    [finding] = CONTROL.detect(Given(snapshot()), Params())
    assert finding.fix == () and "no data-plane endpoint" in finding.summary


def test_a_deployment_of_a_fine_tuned_model_triggers_the_control() -> None:
    tuned = Deployment(f"{RID}/deployments/tuned", "tuned", None, "gpt-4o-mini-2024-07-18.ft-0e20aa")
    plain = Deployment(f"{RID}/deployments/chat", "chat", None, "gpt-4o")
    facts = Given(snapshot(), deployments=(tuned, plain))
    assert _fine_tuned_deployment(facts, tuned.resource_id.upper())
    assert not _fine_tuned_deployment(facts, plain.resource_id)
    assert (
        CONTROL.wanted_for("Microsoft.CognitiveServices/accounts/deployments/write", plain.resource_id, facts) is False
    )
    assert CONTROL.wanted_for("", "", facts)  # the sweep and the admin route always run it
