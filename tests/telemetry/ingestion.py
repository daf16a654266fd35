"""A local Application Insights ingestion endpoint for tests: records the envelopes POSTed to /v2.1/track (gzip or
plain JSON, a list or newline-delimited) and answers as the service does (docs/telemetry.md "What was validated")."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.loopback import serving

TRACK_PATH = "/v2.1/track"


@dataclass(frozen=True)
class Post:
    """One request as received: its path, Content-Encoding, raw body (decompressed) and decoded envelopes."""

    method: str
    path: str
    encoding: str
    body: str
    envelopes: tuple[dict[str, Any], ...]


@dataclass
class Ingestion:
    """What the endpoint received; `connection_string` points an exporter at it (InstrumentationKey auth)."""

    endpoint: str
    ikey: str = "00000000-0000-4000-8000-000000000000"
    posts: list[Post] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def connection_string(self) -> str:
        return f"InstrumentationKey={self.ikey};IngestionEndpoint={self.endpoint}/"

    def record(self, post: Post) -> None:
        with self._lock:
            self.posts.append(post)

    def received(self) -> list[Post]:
        with self._lock:
            return list(self.posts)

    def envelopes(self, base_type: str | None = None) -> list[dict[str, Any]]:
        """Every envelope received at the track path, in order; only those of `base_type` (MessageData...) if given."""
        found = [e for p in self.received() if p.path == TRACK_PATH for e in p.envelopes]
        return [e for e in found if base_type is None or e.get("data", {}).get("baseType") == base_type]


def decode(body: bytes, encoding: str) -> tuple[str, tuple[dict[str, Any], ...]]:
    """The text and envelopes of a track body: a JSON list, or one JSON object per line."""
    text = (gzip.decompress(body) if encoding.lower() == "gzip" else body).decode("utf-8")
    stripped = text.strip()
    if not stripped:
        return text, ()
    if stripped.startswith("["):
        parsed = json.loads(stripped)
        return text, tuple(parsed)
    return text, tuple(json.loads(line) for line in stripped.splitlines() if line.strip())


def _handler(sink: Ingestion) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            encoding = self.headers.get("Content-Encoding") or ""
            text, envelopes = decode(self.rfile.read(length), encoding)
            path = self.path.split("?", 1)[0]
            sink.record(Post("POST", path, encoding, text, envelopes))
            if path != TRACK_PATH:
                self._answer(404, {"error": f"not an ingestion path: {path}"})
                return
            n = len(envelopes)
            self._answer(200, {"itemsReceived": n, "itemsAccepted": n, "errors": []})

        def do_GET(self) -> None:
            sink.record(Post("GET", self.path, "", "", ()))
            self._answer(404, {"error": "no GET here"})

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: the test reads `posts`

    return Handler


@contextmanager
def ingestion_endpoint() -> Iterator[Ingestion]:
    """An ingestion endpoint on 127.0.0.1, a random port, served in a thread until the block ends."""
    sink = Ingestion("")
    with serving(_handler(sink), "ingestion", poll_interval=0.05) as base:
        sink.endpoint = base
        yield sink
