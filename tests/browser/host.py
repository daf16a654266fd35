"""A small local stand-in for the Functions host: HTTP on 127.0.0.1 (random port) routing /api/<route> to the app's
indexed HTTP functions as the worker does, with the function key enforced like Azure (401 without ?code= or
x-functions-key). Only what the browser tests need: GET, one key, no route parameters.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import azure.functions as func

from tests.loopback import serving


@dataclass(frozen=True)
class Route:
    """One HTTP-triggered function as its bindings describe it."""

    name: str
    methods: tuple[str, ...]
    auth_level: str
    call: Any  # the user function: HttpRequest -> HttpResponse


def http_routes(functions: Mapping[str, Any]) -> dict[str, Route]:
    """The app's HTTP routes from its indexed functions (name -> Function), keyed by route as the host maps them."""
    routes = {}
    for name, function in functions.items():
        for binding in json.loads(function.get_function_json())["bindings"]:
            if binding["type"] == "httpTrigger":
                methods = tuple(m.upper() for m in binding.get("methods") or ("GET", "POST"))
                route = binding.get("route") or name
                routes[route] = Route(name, methods, str(binding["authLevel"]).upper(), function.get_user_function())
    return routes


@dataclass
class Served:
    """The running host: its base URL and what it answered (path without query, status): never the key."""

    base: str
    answered: list[tuple[str, int]] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    routes: dict[str, Route]
    key: str
    served: Served

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the default log line would print the query string, which holds the key."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        route = self.routes.get(url.path.removeprefix("/api/")) if url.path.startswith("/api/") else None
        if route is None:
            self._answer(func.HttpResponse("not found", status_code=404), url.path)
            return
        if method not in route.methods:
            self._answer(func.HttpResponse("method not allowed", status_code=405), url.path)
            return
        given = params.get("code") or self.headers.get("x-functions-key")
        if route.auth_level != "ANONYMOUS" and given != self.key:
            self._answer(func.HttpResponse("", status_code=401), url.path)  # the host answers an empty 401
            return
        length = int(self.headers.get("content-length") or 0)
        request = func.HttpRequest(
            method,
            f"http://{self.headers.get('host')}{self.path}",
            headers=dict(self.headers.items()),
            params=params,  # as in Azure: `code` reaches the function too
            body=self.rfile.read(length) if length else b"",
        )
        self._answer(route.call(request), url.path)

    def _answer(self, response: func.HttpResponse, path: str) -> None:
        body = response.get_body()
        self.send_response(response.status_code)
        for name, value in response.headers.items():
            if name.lower() != "content-type":
                self.send_header(name, value)
        mimetype = response.mimetype or "text/plain"
        self.send_header("Content-Type", f"{mimetype}; charset={response.charset or 'utf-8'}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.served.answered.append((path, response.status_code))


@contextmanager
def functions_host(functions: Mapping[str, Any], key: str) -> Iterator[Served]:
    """Serve the app's HTTP functions on 127.0.0.1 at a random port until the block ends."""
    served = Served("")
    handler = type("Handler", (_Handler,), {"routes": http_routes(functions), "key": key, "served": served})
    with serving(handler, "functions-host") as base:
        served.base = base
        yield served
