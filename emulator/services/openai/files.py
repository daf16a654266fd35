"""The file routes: list, read and delete file metadata (content is never served), with the emulator's guard:
a file that a job which has not ended names cannot be deleted (409 conflict).
"""

from __future__ import annotations

from typing import Any

from emulator.kernel.http import Reply

from . import paging
from .call import Call, answer
from .errors import OpenAIError, bad_request, not_found
from .state import Body
from .versions import PURPOSES, TERMINAL_JOB_STATES

# The public specs document no such refusal (the 2024-10-21 swagger says deletion "is also allowed if a file
# was used, e.g., as training file in a fine-tune job"); the emulator is stricter on purpose, to catch a client
# that deletes data a running job still reads (docs/emulator.md "Azure OpenAI data plane").


def listing(call: Call) -> Reply:
    """GET /files: newest first (`order=asc` reverses), `purpose` filters, `after`/`limit` page.

    v1 answers `{object, data, first_id, last_id, has_more}`. The dated shape answers the 2024-10-21
    `FileList`, `{data, object}`, and adds `has_more: true` only to a page that was cut short; the FileList
    schema has no `has_more`, so a client also stops at an empty page (what the openai client does)."""
    purpose = call.req.query.get("purpose")
    if purpose is not None and purpose not in PURPOSES:
        raise bad_request(f"purpose: '{purpose}' is not one of {', '.join(PURPOSES)}.")
    order = call.req.query.get("order") or "desc"
    if order not in ("asc", "desc"):
        raise bad_request(f"order: expected 'asc' or 'desc', got '{order}'.")
    page = paging.window(
        call,
        call.data.files,
        default_limit=call.max_page_size,
        descending=order == "desc",
        keep=lambda body: purpose is None or body.get("purpose") == purpose,
    )
    data = [answer(body) for body in page.items]
    if call.v1:
        first = data[0]["id"] if data else None
        last = data[-1]["id"] if data else None
        return Reply(
            200, {"object": "list", "data": data, "first_id": first, "last_id": last, "has_more": page.has_more}
        )
    out: dict[str, Any] = {"data": data, "object": "list"}
    if page.has_more:
        out["has_more"] = True
    return Reply(200, out)


def _file(call: Call, file_id: str) -> Body:
    found = call.data.files.get(file_id)
    if found is None:
        raise not_found(f"File with id '{file_id}' not found.")
    return found


def get(call: Call, file_id: str) -> Reply:
    """GET /files/{id}: the file's metadata."""
    return Reply(200, answer(_file(call, file_id)))


def delete(call: Call, file_id: str) -> Reply:
    """DELETE /files/{id}: gone from every list and read after this; 409 while a running job names it."""
    _file(call, file_id)
    for job in call.data.jobs:
        status = job.get("status")
        if status not in TERMINAL_JOB_STATES and file_id in _named_files(job):
            raise OpenAIError(
                409,
                "conflict",
                f"File '{file_id}' is used by fine-tuning job '{job['id']}', which is {status}; it can be "
                f"deleted once the job has succeeded, failed or been cancelled.",
            )
    call.data.files.remove(file_id)
    return Reply(200, {"object": "file", "deleted": True, "id": file_id})


def content(call: Call, file_id: str) -> Reply:
    """GET /files/{id}/content: never served (the emulator keeps metadata only)."""
    _file(call, file_id)
    raise not_found(f"The emulator keeps no content for file '{file_id}' (only its metadata).")


def _named_files(job: Body) -> set[str]:
    named = [job.get("training_file"), job.get("validation_file"), *(job.get("result_files") or [])]
    return {str(n) for n in named if n}
