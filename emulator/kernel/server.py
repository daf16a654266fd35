"""The HTTPS server: TLS on loopback, one thread per connection, every method handed to the kernel's World.

TLS is required because azure-core refuses to send bearer tokens over plain HTTP; the certificate comes
from a throwaway trustme CA made at start-up, whose PEM is `Emulator.ca_path`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import ssl
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .http import Reply, Request
from .world import World

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
    server: TLSServer

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
            # Decoded once, here, as ARM does: `%252D` stays `%2D` in a name (nothing downstream decodes again).
            path=unquote(parts.path),
            raw_path=parts.path,
            query={k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            body_invalid=invalid,
            listener=self.server.listener,
        )
        reply = self.server.world.serve(req)
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
        self.end_headers()
        if self.command.upper() != "HEAD":  # a HEAD reply has the headers of the GET and no body
            self.wfile.write(payload)

    def _reset(self) -> None:
        """Drop the connection with a TCP RST and no HTTP reply (SO_LINGER 0 makes close() abortive)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        finally:
            self.connection.close()

    def __getattr__(self, name: str) -> Any:
        """Every method (HEAD, OPTIONS, TRACE, ...) goes to the services, which answer in their own error
        shape, instead of http.server's 501 HTML page."""
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)


class TLSServer(ThreadingHTTPServer):
    """A threading HTTP server that does the TLS handshake in each connection's own thread. `listener` names
    the port for the services (Request.listener): "" is the main one, a data plane may have its own."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], tls: ssl.SSLContext, world: World, listener: str = "") -> None:
        self.tls = tls
        self.world = world
        self.listener = listener
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
