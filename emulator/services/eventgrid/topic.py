"""One Event Grid custom topic whose input schema is CloudEventSchemaV1_0 and whose local auth is disabled: it takes
a batch of CloudEvents with a bearer token (an `aeg-sas-key` or `aeg-sas-token` is refused), checks each event's
required attributes and the 1 MB batch limit, and keeps what it accepted, in order, for tests to read.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Mapping
from typing import Any

from emulator.kernel.http import Reply, Request
from emulator.kernel.service import CodedError
from emulator.kernel.world import World

#: The name of the topic's own port (Request.listener, and the request log's `kind`).
LISTENER = "eventgrid"
PATH = "/api/events"
API_VERSIONS = ("2018-01-01",)
#: Content types of the CloudEvents structured mode: a batch, or one event.
BATCH = "application/cloudevents-batch+json"
SINGLE = "application/cloudevents+json"
MAX_BATCH_BYTES = 1024 * 1024
_REQUIRED = ("id", "source", "type", "specversion")
_CODE_BY_STATUS = {400: "BadRequest", 401: "Unauthorized", 404: "NotFound", 405: "MethodNotAllowed", 413: "TooLarge"}


class TopicError(CodedError):
    """An Event Grid-shaped failure: `{"error": {"code", "message"}}`."""


def _rendered(status: int, code: str, message: str, headers: Mapping[str, str]) -> Reply:
    return TopicError(status, _CODE_BY_STATUS.get(status, code), message, headers=headers).reply()


def _problem(event: Any, index: int) -> str | None:
    """Why an event is not a CloudEvent 1.0 the topic accepts, or None."""
    if not isinstance(event, Mapping):
        return f"event {index} is not a JSON object"
    missing = [k for k in _REQUIRED if not isinstance(event.get(k), str) or not event[k]]
    if missing:
        return f"event {index} lacks the required attribute(s) {', '.join(missing)}"
    if event["specversion"] != "1.0":
        return f"event {index} has specversion {event['specversion']!r}; the topic takes 1.0"
    return None


class TopicPlane:
    """The topic: every accepted CloudEvent is kept (Emulator.published_events)."""

    name = "eventgrid"
    listener = LISTENER
    sections: tuple[str, ...] = ()

    def __init__(self, world: World) -> None:
        self.world = world
        self._lock = threading.Lock()
        self._events: list[dict[str, Any]] = []

    def claims(self, req: Request) -> bool:
        return req.listener == LISTENER

    def tick(self) -> None:
        """Nothing completes by time here."""

    def load(self, scenario: Mapping[str, Any]) -> None:
        """No scenario sections: a topic starts empty."""

    def dump(self) -> dict[str, Any]:
        return {}

    def error_reply(self, status: int, code: str, message: str, headers: Mapping[str, str]) -> Reply:
        return _rendered(status, code, message, headers)

    def decorate(self, req: Request, reply: Reply) -> None:
        reply.headers.setdefault("x-ms-request-id", str(uuid.uuid4()))

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._events]

    def handle(self, req: Request) -> Reply:
        if req.path.rstrip("/").lower() != PATH:
            raise TopicError(404, "NotFound", f"No Event Grid operation in the emulator matches '{req.path}'.")
        if req.method.upper() != "POST":
            raise TopicError(405, "MethodNotAllowed", f"The topic does not support the http method '{req.method}'.")
        _check_auth(req)
        version = req.query.get("api-version")
        if version not in API_VERSIONS:
            raise TopicError(400, "BadRequest", f"The api-version '{version}' is not supported: {API_VERSIONS}.")
        events = _events(req)
        if len(json.dumps(events).encode("utf-8")) > MAX_BATCH_BYTES:
            raise TopicError(413, "TooLarge", f"The batch is larger than {MAX_BATCH_BYTES} bytes.")
        with self._lock:
            self._events.extend(events)
        return Reply(200)


def _check_auth(req: Request) -> None:
    if "aeg-sas-key" in req.headers or "aeg-sas-token" in req.headers:
        raise TopicError(401, "Unauthorized", "Local authentication (SAS keys and tokens) is disabled for this topic.")
    scheme, _, token = req.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TopicError(401, "Unauthorized", "The request has no credential: send 'Authorization: Bearer <token>'.")


def _events(req: Request) -> list[dict[str, Any]]:
    """The batch's events, checked: a CloudEvents batch (or one event) as the topic's input schema wants."""
    content_type = req.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in (BATCH, SINGLE):
        raise TopicError(400, "BadRequest", f"Content-Type {content_type!r}: the topic takes {BATCH}.")
    if req.body_invalid or req.body is None:
        raise TopicError(400, "BadRequest", "The body is not JSON.")
    events = req.body if content_type == BATCH else [req.body]
    if not isinstance(events, list) or not events:
        raise TopicError(400, "BadRequest", "A CloudEvents batch is a non-empty JSON array.")
    for index, event in enumerate(events):
        problem = _problem(event, index)
        if problem:
            raise TopicError(400, "BadRequest", problem)
    return [dict(e) for e in events]
