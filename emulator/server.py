"""The HTTPS server and the `Emulator` facade tests, the demo and `python -m emulator` drive.

TLS is required because azure-core refuses to send bearer tokens over plain HTTP; the certificate comes
from a throwaway trustme CA made at start-up, whose PEM is `Emulator.ca_path`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import socket
import ssl
import struct
import sys
import tempfile
import threading
import uuid
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import trustme

from .context import Context
from .faults import Fault
from .model import RecordedRequest, Reply, Request
from .router import serve
from .store import KNOWN_KEYS, Options

log = logging.getLogger(__name__)
# Wildcard bind addresses cannot be certificate names; clients reach them as 127.0.0.1 or localhost.
_WILDCARDS = frozenset({"0.0.0.0", "::"})  # noqa: S104 - excluded from names, nothing is bound here


class _Handler(BaseHTTPRequestHandler):
    """Turns one HTTP exchange into a Request for the router and writes its Reply back."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects
    server_version = "warden-emulator"
    sys_version = ""
    timeout = 120  # idle keep-alive connections are closed after this many seconds
    # One buffered write per reply and no Nagle: otherwise headers and body go out as two segments and
    # the client's delayed ACK adds ~40 ms to every call.
    wbufsize = -1
    disable_nagle_algorithm = True
    server: _TLSServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence http.server's stderr access log; the router logs each request at DEBUG instead."""

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        raw = self._read_body()
        body: Any = None
        invalid = False
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                invalid = True
        req = Request(
            method=self.command.upper(),
            path=unquote(parts.path),
            raw_path=parts.path,
            query={k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            body_invalid=invalid,
        )
        reply = serve(self.server.context, req)
        if reply.reset:
            self._reset()
        else:
            self._send(reply)

    def _send(self, reply: Reply) -> None:
        payload = b"" if reply.body is None else json.dumps(reply.body).encode("utf-8")
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(payload)

    def _reset(self) -> None:
        """Drop the connection with a TCP RST and no HTTP reply (SO_LINGER 0 makes close() abortive)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        finally:
            self.connection.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch  # noqa: N815 - http.server names


class _TLSServer(ThreadingHTTPServer):
    """A threading HTTP server that does the TLS handshake in each connection's own thread."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], tls: ssl.SSLContext, context: Context) -> None:
        self.tls = tls
        self.context = context
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(10)  # a client that never finishes the handshake must not pin a thread
        try:
            conn = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as err:
            log.debug("TLS handshake with %s failed: %s", client_address, err)
            return
        with self._open_lock:
            self._open.add(conn)
        try:
            _Handler(conn, client_address, self)
        finally:
            with self._open_lock:
                self._open.discard(conn)
            conn.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Client hang-ups are routine for a test server: DEBUG, not a traceback on stderr."""
        log.debug("connection from %s ended with an error", client_address, exc_info=sys.exc_info())

    def close_connections(self) -> None:
        """Wake every worker blocked on an idle keep-alive connection so stop() leaves no thread behind."""
        with self._open_lock:
            conns = list(self._open)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class Emulator:
    """A local Azure Resource Manager for Microsoft.CognitiveServices, served over HTTPS on loopback.

    Usage: `with Emulator(scenario) as emu: client = CognitiveServicesManagementClient(cred, sub,
    base_url=emu.endpoint, connection_verify=emu.ca_path)`.
    """

    def __init__(self, scenario: Mapping[str, Any] | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._ctx = Context()
        scenario = scenario or {}
        self._ctx.store.load(scenario)
        self._ctx.options = Options.from_json(scenario.get("options"))
        for raw in scenario.get("faults") or []:
            self._ctx.faults.add(Fault.from_json(raw))
        self._host = host
        self._port = port
        self._server: _TLSServer | None = None
        self._thread: threading.Thread | None = None
        self._tmpdir: str | None = None
        self._ca_path: str | None = None

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> Emulator:
        if self._server is not None:
            raise RuntimeError("emulator already started")
        ca = trustme.CA()
        names = [n for n in dict.fromkeys([self._host, "127.0.0.1", "localhost"]) if n not in _WILDCARDS]
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*names).configure_cert(tls)
        self._tmpdir = tempfile.mkdtemp(prefix="warden-emulator-")
        ca_file = Path(self._tmpdir) / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        self._ca_path = str(ca_file)
        self._server = _TLSServer((self._host, self._port), tls, self._ctx)
        port = self._server.server_address[1]
        host = f"[{self._host}]" if ":" in self._host else self._host
        self._ctx.endpoint = f"https://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="warden-emulator", daemon=True
        )
        self._thread.start()
        log.debug("emulator listening on %s", self._ctx.endpoint)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.close_connections()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        """`https://HOST:PORT`, the base_url for the management clients (after start())."""
        if not self._ctx.endpoint:
            raise RuntimeError("emulator not started")
        return self._ctx.endpoint

    @property
    def ca_path(self) -> str:
        """PEM of the CA that signed the server certificate: pass as `connection_verify`."""
        if self._ca_path is None or self._server is None:
            raise RuntimeError("emulator not started")
        return self._ca_path

    # --- request log ----------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request seen since start (or the last clear_requests), in order."""
        return self._ctx.recorded()

    def clear_requests(self) -> None:
        self._ctx.clear_recorded()

    def write_requests(self, path: str | Path) -> None:
        """The request log as JSON lines: method, path, query, allow-listed headers, body, status, and fault
        when one fired. Authorization and keys are never in it."""
        lines = [json.dumps(r.to_json(), sort_keys=False) for r in self._ctx.recorded()]
        Path(path).write_text("".join(line + "\n" for line in lines), encoding="utf-8")

    # --- state and behaviour --------------------------------------------------------------------
    def dump_state(self) -> dict[str, Any]:
        """The current state in scenario form (it contains account keys: never print it)."""
        state: dict[str, Any] = {
            "resources": self._ctx.store.dump_resources(),
            "accountKeys": self._ctx.store.dump_keys(),
            "options": self._ctx.options.to_json(),
            "faults": self._ctx.faults.dump(),
        }
        state.update({k: v for k, v in self._ctx.store.extras.items() if k not in KNOWN_KEYS})
        return state

    def add_fault(
        self,
        method: str,
        path: str,
        kind: str,
        *,
        count: int = 1,
        status: int | None = None,
        retry_after: float = 0,
        delay: float = 0,
    ) -> None:
        """Arm a fault for requests whose method matches (`*` = any) and whose URL path matches `path`."""
        self._ctx.faults.add(Fault(method, path, kind, count, status, retry_after, delay))

    def clear_faults(self) -> None:
        """Disarm every fault that has not fired out yet."""
        self._ctx.faults.clear()

    def set_lro_mode(self, mode: str, polls: int = 1) -> None:
        """`sync`: writes answer 200 at once; `async`: 202, then `polls` InProgress status polls."""
        options = Options(lro=mode, async_polls=polls, page_size=self._ctx.options.page_size)
        options.validate()
        self._ctx.options = options

    def set_write_delay(self, seconds: float) -> None:
        """Test hook: every store write sleeps `seconds` before taking the lock and again between reading
        and storing, widening the windows a race (a check outside the lock, an unlocked write) needs."""
        self._ctx.store.write_delay = float(seconds)
