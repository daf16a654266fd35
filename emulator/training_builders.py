"""Scenario builders for the Azure OpenAI data plane: training files and fine-tuning jobs in their REST form, and
the `openaiData` section that holds them (docs/emulator.md "Azure OpenAI data plane").
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

# Shapes: the 2024-10-21 examples get_file.json and get_finetuning_jobs.json under
# tests/fixtures/reference/azureopenai/. Ids not given are derived from the arguments (uuid5), so a scenario
# builds the same ids every time.

# Namespace of the derived ids: any fixed UUID will do; this one is uuid5(NAMESPACE_URL, "warden/openai-data").
_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "warden/openai-data")


def _unix(when: datetime) -> int:
    if when.tzinfo is None:
        raise ValueError(f"{when!r} has no timezone (use UTC)")
    return int(when.timestamp())


def training_file(
    file_id: str | None = None,
    *,
    filename: str,
    purpose: str = "fine-tune",
    bytes: int = 1024,  # the REST field's name (shadows the builtin here only)
    created_at: datetime,
    status: str = "processed",
) -> dict[str, Any]:
    """A File as GET /files/{id} returns it; the id defaults to `file-<32 hex>` derived from the filename."""
    ident = file_id or f"file-{uuid.uuid5(_IDS, f'file:{filename}').hex}"
    return {
        "object": "file",
        "id": ident,
        "purpose": purpose,
        "filename": filename,
        "bytes": bytes,
        "created_at": _unix(created_at),
        "status": status,
    }


def fine_tuning_job(
    job_id: str | None = None,
    *,
    status: str,
    training_file: str,
    validation_file: str | None = None,
    result_files: Iterable[str] = (),
    created_at: datetime,
    finished_at: datetime | None = None,
    estimated_finish: datetime | None = None,
    model: str = "gpt-4o-mini-2024-07-18",
    fine_tuned_model: str | None = None,
) -> dict[str, Any]:
    """A FineTuningJob as GET /fine_tuning/jobs/{id} returns it. Fields given as None are left out (the
    swagger types them as strings and integers, not nullable). The id defaults to `ftjob-<32 hex>` derived
    from the training file, the model and `created_at`."""
    stamp = _unix(created_at)
    ident = job_id or f"ftjob-{uuid.uuid5(_IDS, f'job:{training_file}:{model}:{stamp}').hex}"
    job: dict[str, Any] = {
        "object": "fine_tuning.job",
        "id": ident,
        "model": model,
        "created_at": stamp,
        "status": status,
        "training_file": training_file,
        "result_files": list(result_files),
        "hyperparameters": {"n_epochs": 3},
    }
    if validation_file is not None:
        job["validation_file"] = validation_file
    if finished_at is not None:
        job["finished_at"] = _unix(finished_at)
    if estimated_finish is not None:
        job["estimated_finish"] = _unix(estimated_finish)
    if fine_tuned_model is not None:
        job["fine_tuned_model"] = fine_tuned_model
    return job


def openai_data(
    account_id: str, files: Iterable[Mapping[str, Any]], jobs: Iterable[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """The `openaiData` scenario section for one account: `{"openaiData": {account_id: {"files", "jobs"}}}`.
    For several accounts, merge the inner mappings."""
    return {"openaiData": {account_id: {"files": [dict(f) for f in files], "jobs": [dict(j) for j in jobs]}}}
