"""The fine-tuning job routes (list, read, create, cancel) and what time does to jobs: a running job with an
`estimated_finish` succeeds when the clock reaches it, and its missing result files appear.
"""

from __future__ import annotations

import uuid

from emulator.kernel.http import Reply

from . import paging
from .call import Call, answer
from .errors import OpenAIError, bad_request, not_found
from .state import AccountData, Body
from .versions import JOB_STATES, JOBS_DEFAULT_LIMIT, RUNNING_JOB_STATES, TERMINAL_JOB_STATES

#: The size the emulator gives a results file made when a job completes (it keeps no content).
RESULT_FILE_BYTES = 2048


def listing(call: Call) -> Reply:
    """GET /fine_tuning/jobs: newest first, `after`/`limit` (20 by default) page, `has_more`."""
    page = paging.window(call, call.data.jobs, default_limit=JOBS_DEFAULT_LIMIT)
    return Reply(200, {"has_more": page.has_more, "data": [answer(b) for b in page.items], "object": "list"})


def _job(call: Call, job_id: str) -> Body:
    found = call.data.jobs.get(job_id)
    if found is None:
        raise not_found(f"Fine-tuning job with id '{job_id}' not found.")
    return found


def get(call: Call, job_id: str) -> Reply:
    """GET /fine_tuning/jobs/{id}."""
    return Reply(200, answer(_job(call, job_id)))


def create(call: Call) -> Reply:
    """POST /fine_tuning/jobs: a `pending` job (201 with Location) that runs only when a test says so
    (`Emulator.set_job_status`); its training and validation files must exist."""
    body = call.body()
    for name in ("model", "training_file"):
        if not isinstance(body.get(name), str) or not body[name]:
            raise bad_request(f"{name}: a non-empty string is required.")
    for name in ("training_file", "validation_file"):
        named = body.get(name)
        if named is not None and call.data.files.get(str(named)) is None:
            raise bad_request(f"{name}: no file with id '{named}'.")
    job: Body = {
        "object": "fine_tuning.job",
        "id": f"ftjob-{uuid.uuid4().hex}",
        "model": body["model"],
        "created_at": call.now,
        "status": "pending",
        "training_file": body["training_file"],
        "result_files": [],
        "hyperparameters": dict(body.get("hyperparameters") or {}),
    }
    for name in ("validation_file", "suffix", "seed"):
        if body.get(name) is not None:
            job[name] = body[name]
    call.writable().jobs.add(job)
    version = call.req.query.get("api-version")
    location = f"{call.base}/fine_tuning/jobs/{job['id']}" + (f"?api-version={version}" if version else "")
    return Reply(201, answer(job), {"Location": location})


def cancel(call: Call, job_id: str) -> Reply:
    """POST /fine_tuning/jobs/{id}/cancel: `cancelled`; a job that has already ended is 409."""
    job = _job(call, job_id)
    if job.get("status") in TERMINAL_JOB_STATES:
        raise OpenAIError(409, "conflict", f"Fine-tuning job '{job_id}' has already {job['status']}.")
    job["status"] = "cancelled"
    job.pop("estimated_finish", None)
    return Reply(200, answer(job))


def settle(data: AccountData, now: int) -> None:
    """Complete every running job whose `estimated_finish` has come."""
    for job in list(data.jobs):
        due = job.get("estimated_finish")
        if job.get("status") not in RUNNING_JOB_STATES or not isinstance(due, int) or now < due:
            continue
        job["status"] = "succeeded"
        job["finished_at"] = due
        for file_id in job.get("result_files") or []:
            if data.files.get(file_id) is None and data.files.position(file_id) is None:
                data.files.add(_result_file(str(file_id), due))


def _result_file(file_id: str, created_at: int) -> Body:
    return {
        "object": "file",
        "id": file_id,
        "purpose": "fine-tune-results",
        "filename": "results.csv",
        "bytes": RESULT_FILE_BYTES,
        "created_at": created_at,
        "status": "processed",
    }


def set_status(data: AccountData, job_id: str, status: str, now: int) -> None:
    """The test hook behind Emulator.set_job_status: a running state drops `finished_at`; `succeeded` without
    one gets now."""
    if status not in JOB_STATES:
        raise ValueError(f"unknown job status {status!r}; expected one of {list(JOB_STATES)}")
    job = data.jobs.get(job_id)
    if job is None:
        raise KeyError(f"no fine-tuning job {job_id!r} in account {data.account_id!r}")
    job["status"] = status
    if status not in TERMINAL_JOB_STATES:
        job.pop("finished_at", None)
    elif status == "succeeded":
        job.setdefault("finished_at", now)
