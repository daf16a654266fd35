"""What every long-running ARM write shares: sending it with If-Match (and without it when the service does not
honour it), then following its operation to the end, with failures classified as warden.errors.

A 4xx before the operation was accepted means nothing changed; once ARM accepted it, a failure to follow it
leaves the outcome unknown (OutcomeUnknownError), never "not applied".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from azure.core.exceptions import AzureError as CoreAzureError
from azure.core.exceptions import HttpResponseError
from azure.core.polling.base_polling import OperationFailed

from warden.azure.errors import error_message
from warden.errors import AzureError, ConflictError, OutcomeUnknownError

log = logging.getLogger(__name__)


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
