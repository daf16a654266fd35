"""warden's Azure OpenAI data-plane adapter (OpenAIDataPlane, the TrainingDataPort) against the emulator: an
Entra token for the Cognitive Services audience and never a key, v1 paths, paging to the end, what it maps,
and the errors it raises."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from azure.core.credentials import AccessTokenInfo, TokenRequestOptions

from emulator import Emulator
from emulator.builders import account, account_id
from emulator.training_builders import fine_tuning_job, openai_data, training_file
from warden.azure.clients import ClientFactory
from warden.azure.credentials import StaticTokenCredential
from warden.azure.openai_data import SCOPE, OpenAIDataPlane
from warden.errors import AzureError, TransientError
from warden.settings import RetryOptions

T0 = datetime(2026, 11, 1, tzinfo=UTC)
RID = account_id("aoai-data")
ENDPOINT = "https://aoai-data.openai.azure.com/"


class RecordingCredential(StaticTokenCredential):
    """The static token, noting every scope it was asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.scopes: list[tuple[str, ...]] = []

    def get_token_info(self, *scopes: str, options: TokenRequestOptions | None = None) -> AccessTokenInfo:
        self.scopes.append(scopes)
        return super().get_token_info(*scopes, options=options)


def files(count: int) -> list[dict[str, Any]]:
    return [
        training_file(f"file-{i:03}", filename=f"f{i}.jsonl", created_at=T0 - timedelta(days=i)) for i in range(count)
    ]


@pytest.fixture
def emu() -> Iterator[Emulator]:
    done = fine_tuning_job(
        "ftjob-a",
        status="succeeded",
        training_file="file-000",
        validation_file="file-001",
        result_files=["file-002"],
        created_at=T0,
        finished_at=T0 + timedelta(hours=2),
    )
    running = fine_tuning_job("ftjob-b", status="running", training_file="file-003", created_at=T0)
    results = training_file("file-r", filename="r.csv", purpose="fine-tune-results", created_at=T0)
    scenario = {
        "resources": [account("aoai-data", disableLocalAuth=True)],
        **openai_data(RID, [*files(5), results], [done, running]),
        "openaiOptions": {"maxPageSize": 2},
    }
    with Emulator(scenario) as emulator:
        yield emulator


def plane(emu: Emulator, credential: Any = None) -> OpenAIDataPlane:
    fast = RetryOptions(total=1, backoff_factor=0.01, backoff_max=0.01)
    factory = ClientFactory(credential or StaticTokenCredential(), connection_verify=emu.ca_path, retry=fast)
    return OpenAIDataPlane(factory, openai_endpoint=emu.openai_endpoint)


def test_files_of_both_purposes_are_listed_to_the_last_page_with_an_entra_token(emu: Emulator) -> None:
    credential = RecordingCredential()
    found = plane(emu, credential).list_training_files(ENDPOINT)
    assert sorted(f.file_id for f in found) == ["file-000", "file-001", "file-002", "file-003", "file-004", "file-r"]
    first = next(f for f in found if f.file_id == "file-001")
    assert (first.filename, first.purpose, first.bytes, first.created_at) == (
        "f1.jsonl",
        "fine-tune",
        1024,
        T0 - timedelta(days=1),
    )
    assert credential.scopes and set(credential.scopes) == {(SCOPE,)}
    listed = [r for r in emu.requests if r.kind == "openai"]
    pages = [(r.query.get("purpose"), r.query.get("after")) for r in listed]
    assert pages == [
        ("fine-tune", None),
        ("fine-tune", "file-001"),
        ("fine-tune", "file-003"),
        ("fine-tune-results", None),
    ]
    assert all(r.path == "/aoai-data/openai/v1/files" and "api-version" not in r.query for r in listed)


def test_jobs_map_their_files_and_states(emu: Emulator) -> None:
    jobs = {j.job_id: j for j in plane(emu).list_jobs(ENDPOINT)}
    assert jobs["ftjob-a"].status == "succeeded" and jobs["ftjob-a"].terminal
    assert jobs["ftjob-a"].file_ids == {"file-000", "file-001", "file-002"}
    assert jobs["ftjob-a"].finished_at == T0 + timedelta(hours=2)
    assert not jobs["ftjob-b"].terminal and jobs["ftjob-b"].finished_at is None


def test_delete_says_whether_it_deleted_and_a_file_already_gone_is_not_an_error(emu: Emulator) -> None:
    data = plane(emu)
    assert data.delete_file(ENDPOINT, "file-004") is True
    assert data.delete_file(ENDPOINT, "file-004") is False
    assert [(r.method, r.status) for r in emu.requests if r.method == "DELETE"] == [("DELETE", 200), ("DELETE", 404)]


def test_errors_are_classified(emu: Emulator) -> None:
    emu.add_fault("GET", "/fine_tuning/jobs", "throttle", count=5, retry_after=0)
    with pytest.raises(TransientError):
        plane(emu).list_jobs(ENDPOINT)
    with pytest.raises(AzureError, match="not an https URL"):
        plane(emu).list_jobs("http://aoai-data.openai.azure.com/")


def test_an_account_the_data_plane_does_not_know_is_gone_not_compliant(emu: Emulator) -> None:
    with pytest.raises(AzureError, match="not found"):
        plane(emu).list_training_files("https://nobody.openai.azure.com/")
