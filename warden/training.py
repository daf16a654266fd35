"""Pure judgements over an account's fine-tuning data: which files are leftover, which jobs hold a file, and
whether a deployment serves a fine-tuned model. No network, no clock: `now` is an argument.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from warden.ai_model import TRAINING_PURPOSES, Deployment, FineTuningJob, TrainingData, TrainingFile
from warden.model import Exemption, Json

#: What a fine-tuned model's name carries (`gpt-4o-mini-2024-07-18.ft-0e20...`): the job's fine_tuned_model.
FINE_TUNED_MARK = ".ft-"


@dataclass(frozen=True)
class Leftover:
    """A training file no job needs any more, past its retention: `since` is what the window counts from (the
    last referencing job's end, or the file's upload for a file no job references)."""

    file: TrainingFile
    jobs: tuple[FineTuningJob, ...]
    since: datetime
    kept_until: datetime


def jobs_using(file_id: str, jobs: Iterable[FineTuningJob]) -> tuple[FineTuningJob, ...]:
    """The jobs that reference the file, as training, validation or result file."""
    return tuple(job for job in jobs if file_id in job.file_ids)


def active_users(file_id: str, jobs: Iterable[FineTuningJob]) -> tuple[FineTuningJob, ...]:
    """The jobs that reference the file and are not terminal: while one exists the file is never touched."""
    return tuple(job for job in jobs_using(file_id, jobs) if not job.terminal)


def leftovers(data: TrainingData, now: datetime, retention: timedelta, orphan_retention: timedelta) -> list[Leftover]:
    """Every fine-tuning file whose referencing jobs are all terminal and whose window has passed."""
    out: list[Leftover] = []
    for file in sorted(data.files, key=lambda f: f.file_id):
        if file.purpose not in TRAINING_PURPOSES:
            continue
        users = jobs_using(file.file_id, data.jobs)
        if any(not job.terminal for job in users):
            continue
        if users:
            # A terminal job without finished_at (cancelled before it started) counts from its creation.
            ends = [job.finished_at or job.created_at or file.created_at for job in users]
            since, window = max(ends), retention
        else:
            since, window = file.created_at, orphan_retention
        if now - since >= window:
            out.append(Leftover(file, users, since, since + window))
    return out


def exemption_for(file: TrainingFile, exemptions: Sequence[Exemption], now: datetime) -> Exemption | None:
    """The first matching file exemption in force, else the matching one that expired last (named when the file
    is deleted again). A `file:` pattern names an id exactly; `filename:` is a case-insensitive glob."""
    active: Exemption | None = None
    expired: Exemption | None = None
    for ex in exemptions:
        kind, _, pattern = ex.resource_pattern.partition(":")
        if kind == "file" and pattern != file.file_id:
            continue
        if kind == "filename" and not fnmatch.fnmatchcase(file.filename.lower(), pattern.lower()):
            continue
        if now < ex.expires:
            active = active or ex
        elif expired is None or ex.expires > expired.expires:
            expired = ex
    return active or expired


def describe(leftover: Leftover) -> dict[str, Json]:
    """A leftover file as its audit record shows it: metadata and the jobs' states, never the content."""
    file = leftover.file
    return {
        "fileId": file.file_id,
        "filename": file.filename,
        "purpose": file.purpose,
        "bytes": file.bytes,
        "createdAt": file.created_at.isoformat(),
        "jobs": [
            {
                "id": job.job_id,
                "status": job.status,
                "finishedAt": job.finished_at.isoformat() if job.finished_at else None,
            }
            for job in leftover.jobs
        ],
        "retainedSince": leftover.since.isoformat(),
    }


def is_fine_tuned(deployment: Deployment) -> bool:
    """Whether the deployment serves a fine-tuned model (its model name carries `.ft-`)."""
    return FINE_TUNED_MARK in (deployment.model_name or "").lower()
