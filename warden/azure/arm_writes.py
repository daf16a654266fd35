"""What every long-running ARM write shares: sending it with If-Match (and without it when the service does not
honour it), then following its operation to the end, with failures classified as warden.errors.

A 4xx before the operation was accepted means nothing changed; once ARM accepted it, a failure to follow it
leaves the outcome unknown (OutcomeUnknownError), never "not applied". `Answers` tells whether an operation's
final result is a read of the resource made after ARM reported the operation finished.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from azure.core.exceptions import AzureError as CoreAzureError
from azure.core.exceptions import HttpResponseError
from azure.core.pipeline import PipelineResponse
from azure.core.polling.base_polling import OperationFailed
from azure.mgmt.core.polling.arm_polling import ARMPolling

from warden.azure.errors import error_message
from warden.errors import AzureError, ConflictError, OutcomeUnknownError

log = logging.getLogger(__name__)


#: A write ARM accepted as an operation still to run, rather than answered with its result.
ACCEPTED = frozenset({201, 202})


class Answers:
    """A `raw_response_hook` for one write: the method and status of every answer the SDK received for it, the
    write's own (each retry) and, as the hook rides along to the poller, each poll and the final GET."""

    def __init__(self, write_method: str) -> None:
        self._write = write_method.upper()
        self.seen: list[tuple[str, int]] = []

    def __call__(self, response: PipelineResponse[Any, Any]) -> None:
        http = response.http_response
        self.seen.append((http.request.method.upper(), http.status_code))

    def read_after_completion(self) -> bool:
        """Whether the operation's final result is a read made after it completed: ARM accepted the write
        (201/202, its last attempt's answer) and the poller's last answer was a GET (the final-state GET of the
        resource, or its Location's 200), sent only once the operation reported a terminal status. A write
        answered 200 is not: that answer is the write's own, even when the SDK then follows its monitor."""
        writes = [status for method, status in self.seen if method == self._write]
        return bool(writes) and writes[-1] in ACCEPTED and self.seen[-1] == ("GET", 200)


#: The provisioning state of a resource whose write is complete and applied.
SUCCEEDED = "succeeded"


class SettledPolling(ARMPolling):
    """azure-mgmt-core's ARM polling, except that a write answered 200 whose body already shows provisioningState
    Succeeded is finished there: ARM completed it synchronously, so no operation-status poll and no final GET
    follow (the UpdateAccount example's 200 still names an operation: tests/fixtures/reference/cognitiveservices/
    2025-09-01/examples/UpdateAccount.json). The executor's own read verifies the change (docs/scale.md)."""

    def initialize(self, client: Any, initial_response: Any, deserialization_callback: Any) -> None:
        super().initialize(client, initial_response, deserialization_callback)
        http = initial_response.http_response
        if http.status_code != 200:
            return
        try:
            state = (http.json().get("properties") or {}).get("provisioningState")
        except (ValueError, AttributeError):
            return  # no JSON object body: ARM's own polling decides
        if isinstance(state, str) and state.lower() == SUCCEEDED:
            self._status = "Succeeded"


def begin_with_if_match(
    begin: Callable[[str | None], Any], etag: str | None, unchanged: Callable[[], bool], what: str
) -> Any:
    """`begin(etag)` sends the write with If-Match. A 412 while the resource is still `unchanged()` since the
    read means the service does not honour If-Match as documented: the write is sent again without it rather
    than never fixing the drift (logged). Any other refusal propagates."""
    if not etag:
        log.warning("%s without If-Match: the read carried no etag", what)
    try:
        return begin(etag)
    except ConflictError as exc:
        if exc.status != 412 or not etag or not unchanged():
            raise
    log.warning("%s: 412 with an unchanged etag; retrying without If-Match", what)
    return begin(None)


def finish(poller: Any, what: str, timeout: float) -> Any:
    """The operation's final result, within `timeout` seconds. AzureError when ARM reported it Failed or
    Canceled; OutcomeUnknownError when it could not be followed to the end (it may still land)."""
    try:
        result = poller.result(timeout=timeout)
    except HttpResponseError as exc:
        if isinstance(exc.__cause__, OperationFailed):  # ARM itself reported Failed or Canceled
            raise AzureError(f"{what}: the operation ended {poller.status()}: {error_message(exc)}") from exc
        raise OutcomeUnknownError(f"accepted, but following the operation failed: {error_message(exc)}") from exc
    except CoreAzureError as exc:
        raise OutcomeUnknownError(f"accepted, but following the operation failed: {exc}") from exc
    if not poller.done():
        raise OutcomeUnknownError(f"accepted, but not finished after {timeout:.0f}s")
    return result
