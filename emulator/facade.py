"""The `Emulator` facade that tests, the demo and `python -m emulator` drive: a World with its services,
served over HTTPS on loopback.

TLS is required because azure-core refuses to send bearer tokens over plain HTTP; the certificate comes
from a throwaway trustme CA made at start-up, whose PEM is `Emulator.ca_path`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import ssl
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import trustme

from .arm.plane import Arm
from .kernel.clock import Clock
from .kernel.faults import Fault
from .kernel.hooks import Hook
from .kernel.http import RecordedRequest
from .kernel.server import TLSServer
from .kernel.world import World
from .services import PROVIDERS, SERVICES
from .services.eventgrid import LISTENER as TOPIC_LISTENER
from .services.eventgrid import TopicPlane
from .services.keyvault import LISTENER as KEYVAULT_LISTENER
from .services.openai import LISTENER as OPENAI_LISTENER
from .services.openai import OpenAIPlane
from .services.resourcegraph import graph_of

log = logging.getLogger(__name__)
# Wildcard bind addresses cannot be certificate names; clients reach them as 127.0.0.1 or localhost.
_WILDCARDS = frozenset({"0.0.0.0", "::"})  # noqa: S104 - excluded from names, nothing is bound here


class Emulator:
    """A local Azure (ARM and the registered services), served over HTTPS on loopback.

    Usage: `with Emulator(scenario) as emu: client = CognitiveServicesManagementClient(cred, sub,
    base_url=emu.endpoint, connection_verify=emu.ca_path)`. Pass `clock` to share one with warden.
    """

    def __init__(
        self,
        scenario: Mapping[str, Any] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
    ) -> None:
        self._world = World(clock)
        self._arm = Arm(self._world, PROVIDERS)
        self._world.services.extend(make(self._world) for make in SERVICES)
        self._world.services.append(self._arm)  # ARM last: the fallback for requests nobody else claims
        self._world.load(scenario or {})
        self._host = host
        self._port = port
        # A data plane that names a `listener` is served on a port of its own (Key Vault: vault_endpoint).
        names = (str(getattr(service, "listener", "")) for service in self._world.services)
        self._listeners = tuple(dict.fromkeys(name for name in names if name))
        self._server: TLSServer | None = None
        self._extra: list[TLSServer] = []
        self._threads: list[threading.Thread] = []
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
        self._server = TLSServer((self._host, self._port), tls, self._world)
        self._world.endpoint = self._url(self._server)
        self._extra = [TLSServer((self._host, 0), tls, self._world, name) for name in self._listeners]
        for server in self._extra:
            self._world.endpoints[server.listener] = self._url(server)
        for server in (self._server, *self._extra):
            name = "-".join(filter(None, ("warden-emulator", server.listener)))
            thread = threading.Thread(target=server.serve_forever, args=(0.05,), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        log.debug("emulator listening on %s %s", self._world.endpoint, self._world.endpoints)
        return self

    def _url(self, server: TLSServer) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"https://{host}:{server.server_address[1]}"

    def stop(self) -> None:
        servers = [s for s in (self._server, *self._extra) if s is not None]
        self._server, self._extra = None, []
        for server in servers:
            server.shutdown()
            server.close_connections()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
        self._world.endpoints.clear()
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
        if not self._world.endpoint:
            raise RuntimeError("emulator not started")
        return self._world.endpoint

    @property
    def vault_endpoint(self) -> str:
        """`https://HOST:PORT2`, the Key Vault data plane's own port (after start()); a vault is a path under it."""
        found = self._world.endpoints.get(KEYVAULT_LISTENER)
        if not found:
            raise RuntimeError("emulator not started")
        return found

    def vault_url(self, name: str) -> str:
        """`{vault_endpoint}/{name}`: a vault's vault_url for KeyClient and SecretClient (built with
        verify_challenge_resource=False, as the challenge names vault.azure.net, not the loopback host)."""
        return f"{self.vault_endpoint}/{name}"

    @property
    def openai_endpoint(self) -> str:
        """`https://HOST:PORT3`, the Azure OpenAI data plane's own port (after start()); an account is a path
        under it, named by its custom subdomain."""
        found = self._world.endpoints.get(OPENAI_LISTENER)
        if not found:
            raise RuntimeError("emulator not started")
        return found

    def openai_url(self, subdomain: str) -> str:
        """`{openai_endpoint}/{subdomain}`: what stands for `https://{subdomain}.openai.azure.com` (the
        `azure_endpoint` of openai.AzureOpenAI; the v1 shape is `{openai_url}/openai/v1/`)."""
        return f"{self.openai_endpoint}/{subdomain}"

    @property
    def topic_endpoint(self) -> str:
        """`https://HOST:PORT4/api/events`: the Event Grid custom topic's endpoint (after start()), what
        EventGridPublisherClient takes (see docs/emulator.md "Event Grid topic")."""
        found = self._world.endpoints.get(TOPIC_LISTENER)
        if not found:
            raise RuntimeError("emulator not started")
        return f"{found}/api/events"

    def published_events(self) -> list[dict[str, Any]]:
        """The CloudEvents the topic accepted, in order, as sent (JSON objects)."""
        return next(s for s in self._world.services if isinstance(s, TopicPlane)).events()

    @property
    def ca_path(self) -> str:
        """PEM of the CA that signed the server certificate: pass as `connection_verify`."""
        if self._ca_path is None or self._server is None:
            raise RuntimeError("emulator not started")
        return self._ca_path

    @property
    def clock(self) -> Clock:
        """The clock operations complete by; `clock.advance(s)` moves the world forward."""
        return self._world.clock

    # --- request log ----------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request seen since start (or the last clear_requests), in order."""
        return self._world.recorded()

    def clear_requests(self) -> None:
        self._world.clear_recorded()

    def write_requests(self, path: str | Path) -> None:
        """The request log as JSON lines: method, path, query, allow-listed headers, body, status, and fault
        when one fired. Authorization and keys are never in it."""
        lines = [json.dumps(r.to_json(), sort_keys=False) for r in self._world.recorded()]
        Path(path).write_text("".join(line + "\n" for line in lines), encoding="utf-8")

    # --- state and behaviour --------------------------------------------------------------------
    def dump_state(self) -> dict[str, Any]:
        """The current state in scenario form, due operations applied (it holds account keys: never print it)."""
        return self._world.dump()

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
        message: str | None = None,
    ) -> None:
        """Arm a fault for requests whose method matches (`*` = any) and whose URL path matches `path`; `message`
        replaces the kind's own error message (a `forbidden` fault can name the action and scope as ARM does)."""
        self._world.faults.add(Fault(method, path, kind, count, status, retry_after, delay, message))

    def on_request(self, method: str, path: str, callback: Callable[[], object], count: int = 1) -> None:
        """Test hook: run `callback()` before each of the next `count` requests whose method matches (`*` =
        any) and whose URL path matches the regex `path` is handled (on the server thread, before faults).
        A callback that raises makes that request a 500."""
        self._world.hooks.add(Hook(method, path, callback, count))

    def remove_resource(self, resource_id: str) -> bool:
        """Test hook: remove an ARM resource (and what is nested under it) outside any request, as someone
        else's change between two of warden's requests would; False when there was none."""
        return self._arm.store.delete(resource_id) is not None

    def freeze_graph(self) -> None:
        """Test hook: Resource Graph answers from the resources as they are now until thaw_graph(), as real ARG,
        which indexes writes seconds to minutes late, would; ARM reads and writes are not affected."""
        graph_of(self._arm).freeze()

    def thaw_graph(self) -> None:
        """Resource Graph reads the live store again (the default)."""
        graph_of(self._arm).thaw()

    def set_job_status(self, account_id: str, job_id: str, status: str) -> None:
        """Test hook: set a fine-tuning job's status on the Azure OpenAI data plane (a running state drops
        `finished_at`). KeyError for an unknown account or job, ValueError for an unknown status."""
        plane = next((s for s in self._world.services if isinstance(s, OpenAIPlane)), None)
        if plane is None:
            raise RuntimeError("this emulator serves no Azure OpenAI data plane")
        plane.set_job_status(account_id, job_id, status)

    def clear_faults(self) -> None:
        """Disarm every fault that has not fired out yet."""
        self._world.faults.clear()

    def set_options(self, **changes: Any) -> None:
        """Change scenario options by their Python names (`lro`, `operation_seconds`, `page_size`,
        `if_match`, `reads`, `writes`); raises ValueError for an invalid value."""
        try:
            options = dataclasses.replace(self._arm.options, **changes)
        except TypeError as err:  # a name Options does not have
            raise ValueError(f"unknown emulator option: {err}") from None
        self._arm.set_options(options)

    def set_lro_mode(self, mode: str, seconds: float = 0.0) -> None:
        """`sync`: writes are done when answered; `async`: 202, done `seconds` later by the clock."""
        self.set_options(lro=mode, operation_seconds=seconds)

    def set_write_delay(self, seconds: float) -> None:
        """Test hook: every store write sleeps `seconds` before taking the lock and again between reading
        and storing, widening the windows a race (a check outside the lock, an unlocked write) needs."""
        self._arm.store.write_delay = float(seconds)
