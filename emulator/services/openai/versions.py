"""The Azure OpenAI data plane's names and vocabularies: its listener, api-versions, the account kinds it serves,
file purposes and the states of files and fine-tuning jobs.
"""

from __future__ import annotations

# Sources: the 2024-10-21 swagger slice (tests/fixtures/reference/azureopenai/authoring/stable/2024-10-21/
# azureopenai.slice.json: Purpose, FileState, FineTuningState) and the v1 file schemas
# (tests/fixtures/reference/azureopenai/v1/azure-v1-v1-generated.files.slice.json: purpose `evals`, api-version
# `v1` by default). The job states `queued` and `validating_files` are the openai client's v1 ones.

#: The name of the data plane's own port (Request.listener, and the request log's `kind`).
LISTENER = "openai"
#: The dated api-versions of the `/openai/...` shape (the vendored slice's); one is required there.
DATED_API_VERSIONS = ("2024-10-21",)
#: The `/openai/v1/...` shape: `api-version` is optional and defaults to `v1`.
V1_API_VERSIONS = ("v1",)
#: Account kinds whose endpoint serves the Azure OpenAI data plane.
ACCOUNT_KINDS = ("OpenAI", "AIServices")
DATA_SECTION = "openaiData"
OPTIONS_SECTION = "openaiOptions"
DEFAULT_MAX_PAGE_SIZE = 100
#: A job list's page size when `limit` is not given (the swagger's default).
JOBS_DEFAULT_LIMIT = 20

#: Purposes of both shapes: the 2024-10-21 `Purpose` enum and v1's `evals`.
PURPOSES = ("fine-tune", "fine-tune-results", "assistants", "assistants_output", "batch", "batch_output", "evals")
FILE_STATES = ("uploaded", "pending", "running", "processed", "error", "deleting", "deleted")
#: Job states that end a job; a file such a job names may be deleted.
TERMINAL_JOB_STATES = ("succeeded", "failed", "cancelled")
#: States in which a job with `estimated_finish` completes by the clock.
RUNNING_JOB_STATES = ("running", "queued", "pending", "validating_files")
#: `FineTuningState` of 2024-10-21 plus the openai client's v1 states.
JOB_STATES = ("created", *RUNNING_JOB_STATES, *TERMINAL_JOB_STATES)
