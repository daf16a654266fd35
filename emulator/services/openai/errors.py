"""The data plane's error body, `{"error": {"code": "notFound", "message": "..."}}`, for its own refusals and
the faults the kernel injects; codes are the 2024-10-21 swagger's `ErrorCode` values, messages the emulator's.
"""

from __future__ import annotations

from collections.abc import Mapping

from emulator.kernel.http import Reply
from emulator.kernel.service import CodedError

# The ErrorCode for an HTTP status, used when the kernel renders a fault (it passes ARM-style codes).
_CODE_BY_STATUS = {
    400: "invalidPayload",
    401: "unauthorized",
    403: "forbidden",
    404: "notFound",
    409: "conflict",
    412: "unexpectedEntityState",
    429: "tooManyRequests",
    500: "internalFailure",
    503: "serviceUnavailable",
}


class OpenAIError(CodedError):
    """An Azure OpenAI-shaped failure, raised anywhere in the data plane."""


def rendered(status: int, code: str, message: str, headers: Mapping[str, str]) -> Reply:
    """A kernel fault in this plane's shape: the ErrorCode of its status (5xx ones without an entry:
    internalFailure)."""
    mapped = _CODE_BY_STATUS.get(status) or ("internalFailure" if status >= 500 else code)
    return OpenAIError(status, mapped, message, headers=headers).reply()


def bad_request(message: str) -> OpenAIError:
    return OpenAIError(400, "invalidPayload", message)


def not_found(message: str) -> OpenAIError:
    return OpenAIError(404, "notFound", message)


def unauthorized(message: str) -> OpenAIError:
    return OpenAIError(401, "unauthorized", message)
