"""TrainingDataPort over the Azure OpenAI data plane's v1 REST API (`{endpoint}/openai/v1/files`,
`/fine_tuning/jobs`), through a bare azure-core pipeline with an Entra token: never an api-key.

Why not the `openai` package: azure-core is already loaded for every other plane, so this adds nothing to
cold start (openai and its httpx/pydantic stack take about half a second to import: docs/ai.md "Client"),
and it shares their retry policy (Retry-After capped), CA bundle and error classifier. Four calls need no more.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ODataV4Format,
    ResourceExistsError,
    ResourceNotFoundError,
)
from azure.core.rest import HttpRequest, HttpResponse

from warden.ai_model import TRAINING_PURPOSES, FineTuningJob, TrainingFile
from warden.azure.clients import ClientFactory
from warden.azure.errors import classified_errors
from warden.errors import AzureError, ResourceGoneError

log = logging.getLogger(__name__)

#: The token audience of every Cognitive Services data plane.
SCOPE = "https://cognitiveservices.azure.com/.default"
PAGE_SIZE = 100
#: A list that pages further than this is not trusted to end (a service bug, or a hostile answer).
MAX_PAGES = 1000
_ERRORS: Mapping[int, type[HttpResponseError]] = {
    401: ClientAuthenticationError,
    404: ResourceNotFoundError,
    409: ResourceExistsError,
}


class OpenAIDataPlane:
    """Files and fine-tuning jobs of any account, one pipeline per endpoint. `openai_endpoint` (the local
    emulator only) maps `https://SUB.openai.azure.com/` to `{openai_endpoint}/SUB`."""

    def __init__(self, clients: ClientFactory, *, openai_endpoint: str | None = None) -> None:
        self._clients = clients
        self._redirect = openai_endpoint.rstrip("/") if openai_endpoint else None

    def _base(self, endpoint: str) -> str:
        parts = urlsplit(endpoint)
        if parts.scheme != "https" or not parts.hostname:
            raise AzureError(f"the account's data-plane endpoint {endpoint!r} is not an https URL")
        if self._redirect:
            return f"{self._redirect}/{parts.hostname.split('.')[0]}/openai/v1"
        return f"https://{parts.netloc}/openai/v1"

    def _send(self, endpoint: str, method: str, path: str, params: Mapping[str, Any] | None = None) -> HttpResponse:
        base = self._base(endpoint)
        client = self._clients.pipeline(base, SCOPE)
        response = client.send_request(HttpRequest(method, f"{base}{path}", params=dict(params or {})))
        if response.status_code >= 400:
            raise _ERRORS.get(response.status_code, HttpResponseError)(response=response, error_format=ODataV4Format)
        return response

    def _pages(self, endpoint: str, path: str, params: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        """Every item of a list, following `has_more` and `after` (the last id of the page) to the end."""
        after: str | None = None
        for _ in range(MAX_PAGES):
            query = {**params, "limit": PAGE_SIZE, **({"after": after} if after else {})}
            with classified_errors(f"list {path} of {endpoint}"):
                body = self._send(endpoint, "GET", path, query).json()
            items = body.get("data") if isinstance(body, Mapping) else None
            if not isinstance(items, list):
                raise AzureError(f"list {path} of {endpoint}: the answer has no data list")
            yield from (item for item in items if isinstance(item, Mapping))
            if not body.get("has_more"):
                return
            cursor = body.get("last_id") or (items[-1].get("id") if items and isinstance(items[-1], Mapping) else None)
            if not cursor or cursor == after:
                raise AzureError(f"list {path} of {endpoint}: has_more without a new cursor after {after!r}")
            after = str(cursor)
        raise AzureError(f"list {path} of {endpoint}: more than {MAX_PAGES} pages")

    def list_training_files(self, endpoint: str) -> list[TrainingFile]:
        files = []
        for purpose in TRAINING_PURPOSES:
            files += [_file(item, endpoint) for item in self._pages(endpoint, "/files", {"purpose": purpose})]
        return files

    def list_jobs(self, endpoint: str) -> list[FineTuningJob]:
        return [_job(item, endpoint) for item in self._pages(endpoint, "/fine_tuning/jobs", {})]

    def delete_file(self, endpoint: str, file_id: str) -> bool:
        try:
            with classified_errors(f"delete {file_id} of {endpoint}", write=True):
                self._send(endpoint, "DELETE", f"/files/{quote(file_id, safe='')}")
        except ResourceGoneError:
            log.info("%s of %s was already gone", file_id, endpoint)
            return False
        log.info("deleted %s of %s", file_id, endpoint)
        return True


def _instant(value: Any) -> datetime | None:
    return (
        datetime.fromtimestamp(value, UTC) if isinstance(value, int | float) and not isinstance(value, bool) else None
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _file(item: Mapping[str, Any], endpoint: str) -> TrainingFile:
    file_id, created = _text(item.get("id")), _instant(item.get("created_at"))
    if file_id is None or created is None:
        raise AzureError(f"a file listed by {endpoint} has no id or created_at: {sorted(item)}")
    size = item.get("bytes")
    return TrainingFile(
        file_id=file_id,
        filename=str(item.get("filename") or ""),
        purpose=str(item.get("purpose") or ""),
        bytes=size if isinstance(size, int) and not isinstance(size, bool) else None,
        created_at=created,
        status=_text(item.get("status")),
    )


def _job(item: Mapping[str, Any], endpoint: str) -> FineTuningJob:
    job_id, status = _text(item.get("id")), _text(item.get("status"))
    if job_id is None or status is None:
        raise AzureError(f"a fine-tuning job listed by {endpoint} has no id or status: {sorted(item)}")
    results = item.get("result_files")
    return FineTuningJob(
        job_id=job_id,
        status=status.lower(),
        created_at=_instant(item.get("created_at")),
        finished_at=_instant(item.get("finished_at")),
        training_file=_text(item.get("training_file")),
        validation_file=_text(item.get("validation_file")),
        result_files=tuple(r for r in results if isinstance(r, str)) if isinstance(results, list) else (),
        fine_tuned_model=_text(item.get("fine_tuned_model")),
    )
