"""The error tree: every failure warden raises is one of these, chained to its cause with `from`."""

from __future__ import annotations


class WardenError(Exception):
    """Base of every error warden raises on purpose."""


class InvalidEventError(WardenError):
    """An Event Grid payload that cannot be parsed; `field` names what is wrong, `where` locates it."""

    def __init__(self, message: str, *, field: str = "", where: str = "") -> None:
        super().__init__(message)
        self.field = field
        self.where = where


class BaselineError(WardenError):
    """An invalid baseline file. `problems` are all its problems in file order, each "file:line: key: problem"
    (the message joins them by newlines); `path` is the file and `line` the first problem's line."""

    def __init__(
        self, message: str, *, path: str = "", line: int | None = None, problems: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.problems = problems or (message,)


class ConfigurationError(WardenError):
    """Missing or contradictory runtime settings (environment variables, app settings)."""


class AuditWriteError(WardenError):
    """The audit log could not be written: no audit, no action, so the caller must not change anything."""


class AzureError(WardenError):
    """A failed Azure call, already classified; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class ResourceGoneError(AzureError):
    """The resource no longer exists (404): nothing to remediate."""


class PermissionDeniedError(AzureError):
    """The app's identity lacks a permission (401/403): a human must grant it."""


class TransientError(AzureError):
    """Throttling, timeouts, 5xx after retries: re-raised so Event Grid redelivers the event. `retry_after` is
    the seconds the service asked for (its Retry-After header) when it throttled."""

    def __init__(
        self, message: str, *, status: int | None = None, code: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.retry_after = retry_after

    @property
    def throttled(self) -> bool:
        return self.status == 429


class OutcomeUnknownError(TransientError):
    """ARM accepted a change but its operation could not be followed to the end: it may yet be applied."""


class ReplyLostError(OutcomeUnknownError):
    """A write was sent, but its answer was a server error or never came (after the SDK's retries): the service
    may have carried it out. Only a re-read tells whether it applied."""


class NotFoundYetError(TransientError):
    """A resource an event just reported written is not found: ARM's reads can lag a write, so the event is
    redelivered and read again rather than called gone."""


class ConflictError(TransientError):
    """The resource is busy (409) or changed since we read it (412): judged again on redelivery."""


class RetryLaterError(TransientError):
    """Not now: a cool-down holds the action back; the event is redelivered and judged again after it."""


class NoCredentialError(WardenError):
    """No Azure credential could give a token (not signed in, no managed identity): `detail` is the credential
    chain's own account of each attempt, shown only on request (`-v`), as it is long."""

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail
