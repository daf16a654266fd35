"""The one azure-core error classifier: every SDK's exceptions become the warden error tree, chained.

ARM, Blob Storage and the other planes raise the same azure-core types; only the error code's place differs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from typing import Any

from azure.core.exceptions import AzureError as CoreAzureError
from azure.core.exceptions import (
    ClientAuthenticationError,
    DeserializationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.core.pipeline import PipelineContext, PipelineResponse
from azure.core.pipeline.policies import RetryPolicy

from warden.errors import (
    AzureError,
    ConflictError,
    PermissionDeniedError,
    ReplyLostError,
    ResourceGoneError,
    TransientError,
)

_TRANSIENT_STATUS = frozenset({408, 429})
_RETRY_POLICY = RetryPolicy()  # only its Retry-After reader is used


def error_code(exc: HttpResponseError) -> str:
    """The service's error code: ARM's in the OData error body, Storage's in `error_code` (at times an enum)."""
    if exc.error is not None and exc.error.code:
        return str(exc.error.code)
    code = getattr(exc, "error_code", None) or ""
    return str(code.value if isinstance(code, Enum) else code)


def error_message(exc: HttpResponseError) -> str:
    """`HTTP 403 Code: message`, from the error body where there is one; the first line otherwise."""
    status = f"HTTP {exc.status_code} " if exc.status_code else ""
    if exc.error is not None and exc.error.message:
        return f"{status}{exc.error.code}: {exc.error.message}"
    return status + str(exc.reason or exc.message or exc).splitlines()[0]


def retry_after(exc: HttpResponseError) -> float | None:
    """The seconds the service asked to wait, read as azure-core's retry policy reads them (Retry-After as
    seconds or an HTTP date, then the milliseconds headers); None when it asked for nothing or unreadably."""
    # Typed as the common response API, which azure-core's pipeline types do not name: every transport's is one.
    response: Any = exc.response
    if response is None:
        return None
    try:
        return _RETRY_POLICY.get_retry_after(PipelineResponse(None, response, PipelineContext(None)))
    except (TypeError, ValueError):  # an unreadable date
        return None


@contextmanager
def classified_errors(what: str, *, write: bool = False) -> Iterator[None]:
    """Turn azure-core exceptions raised inside into the warden error tree, keeping the cause chained.

    `write`: the calls inside change something. A server error, or a request sent whose answer never came,
    then leaves the change's outcome unknown (the service may have carried it out): ReplyLostError, so the
    caller re-reads instead of recording that nothing was applied. A refused connection sent nothing."""
    try:
        yield
    except ResourceNotFoundError as exc:
        raise ResourceGoneError(f"{what}: not found: {error_message(exc)}", status=404, code=error_code(exc)) from exc
    except ClientAuthenticationError as exc:
        if exc.status_code is None:
            # No HTTP answer: the credential could not get a token (IMDS timeout, no identity yet). That is
            # not a missing permission, and a redelivery may well succeed.
            raise TransientError(f"{what}: could not get a token: {exc}") from exc
        message, code = f"{what}: {error_message(exc)}", error_code(exc)
        raise PermissionDeniedError(message, status=exc.status_code, code=code) from exc
    except (ResourceExistsError, ResourceModifiedError) as exc:
        message, code = f"{what}: {error_message(exc)}", error_code(exc)
        raise ConflictError(message, status=exc.status_code, code=code) from exc
    except ServiceResponseError as exc:
        if write:
            raise ReplyLostError(f"{what}: sent, but no answer came: {exc}") from exc
        raise TransientError(f"{what}: connection failed: {exc}") from exc
    except ServiceRequestError as exc:
        raise TransientError(f"{what}: connection failed: {exc}") from exc
    except HttpResponseError as exc:
        status, code, message = exc.status_code, error_code(exc), f"{what}: {error_message(exc)}"
        if status in (401, 403):
            raise PermissionDeniedError(message, status=status, code=code) from exc
        if status in (409, 412):
            raise ConflictError(message, status=status, code=code) from exc
        if write and status is not None and status >= 500:
            raise ReplyLostError(message, status=status, code=code) from exc
        if status is not None and (status >= 500 or status in _TRANSIENT_STATUS):
            raise TransientError(message, status=status, code=code, retry_after=retry_after(exc)) from exc
        raise AzureError(message, status=status, code=code) from exc
    except (CoreAzureError, DeserializationError) as exc:
        # Anything else azure-core raises (an unreadable body, a client-side failure) is still an Azure
        # failure to classify; nothing from the SDK may escape as a foreign exception type.
        raise AzureError(f"{what}: {type(exc).__name__}: {exc}") from exc
