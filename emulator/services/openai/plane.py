"""The Azure OpenAI data plane as a kernel service on a port of its own: `https://HOST:PORT3/{subdomain}/openai/...`
(dated api-version) and `.../{subdomain}/openai/v1/...`; account, credential, api-version, then the route.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from emulator.arm.plane import Arm
from emulator.kernel.http import Reply, Request
from emulator.kernel.world import World

from . import accounts, files, jobs, scenario
from .call import Call
from .errors import OpenAIError, bad_request, not_found, rendered
from .state import OpenAIData
from .versions import DATA_SECTION, DATED_API_VERSIONS, LISTENER, OPTIONS_SECTION, V1_API_VERSIONS

Route = Callable[[Call], Reply]


class OpenAIPlane:
    """Files and fine-tuning jobs of every OpenAI and AIServices account the ARM store holds."""

    name = "openai"
    listener = LISTENER
    sections: tuple[str, ...] = (DATA_SECTION, OPTIONS_SECTION)

    def __init__(self, world: World) -> None:
        self.world = world
        self.data = OpenAIData()

    # --- kernel service -------------------------------------------------------------------------
    def claims(self, req: Request) -> bool:
        return req.listener == LISTENER

    def tick(self) -> None:
        """Jobs whose estimated_finish has come succeed (jobs.settle)."""
        now = self._now()
        with self.data.lock:
            for account in self.data.accounts.values():
                jobs.settle(account, now)

    def load(self, raw: Mapping[str, Any]) -> None:
        scenario.load(self.data, raw)

    def dump(self) -> dict[str, Any]:
        return scenario.dump(self.data)

    def error_reply(self, status: int, code: str, message: str, headers: Mapping[str, str]) -> Reply:
        return rendered(status, code, message, headers)

    def decorate(self, req: Request, reply: Reply) -> None:
        reply.headers.setdefault("apim-request-id", str(uuid.uuid4()))

    # --- test hooks -----------------------------------------------------------------------------
    def set_job_status(self, account_id: str, job_id: str, status: str) -> None:
        """Emulator.set_job_status: KeyError for an unknown account or job, ValueError for a status."""
        with self.data.lock:
            account = self.data.find(account_id)
            if account is None:
                raise KeyError(f"no {DATA_SECTION} for account {account_id!r}")
            jobs.set_status(account, job_id, status, self._now())

    # --- requests -------------------------------------------------------------------------------
    def _now(self) -> int:
        return int(self.world.clock.now().timestamp())

    def _arm(self) -> Arm:
        return next(s for s in self.world.services if isinstance(s, Arm))

    def handle(self, req: Request) -> Reply:
        subdomain, _, rest = req.path.lstrip("/").partition("/")
        arm = self._arm()
        account = accounts.find(arm, subdomain)
        accounts.check_auth(arm, req, account)
        parts = [p for p in rest.split("/") if p]
        if not parts or parts[0].lower() != "openai":
            raise not_found(f"No Azure OpenAI operation in the emulator matches '{req.path}'.")
        v1 = len(parts) > 1 and parts[1].lower() == "v1"
        _check_api_version(req, v1)
        route = _route(req.method.upper(), parts[2:] if v1 else parts[1:])
        root = f"{self.world.endpoints.get(LISTENER, '')}/{subdomain}/openai" + ("/v1" if v1 else "")
        with self.data.lock:
            call = Call(req=req, store=self.data, account_id=str(account["id"]), v1=v1, now=self._now(), base=root)
            return route(call)


def _check_api_version(req: Request, v1: bool) -> None:
    """Required on the dated shape; optional on v1, where it defaults to `v1`."""
    version = req.query.get("api-version")
    if v1 and version is None:
        return
    if not version:
        raise bad_request("The api-version query parameter is required.")
    known = V1_API_VERSIONS if v1 else DATED_API_VERSIONS
    if version not in known:
        raise bad_request(f"The api-version '{version}' is not supported here; supported: {', '.join(known)}.")


def _route(method: str, parts: list[str]) -> Route:
    """The handler for the path after `/openai` (or `/openai/v1`); 404/405 in the plane's shape."""
    lowered = [p.lower() for p in parts]
    table: dict[str, Route] = {}
    if lowered[:1] == ["files"]:
        table = _file_routes(parts[1:])
    elif lowered[:2] == ["fine_tuning", "jobs"]:
        table = _job_routes(parts[2:])
    if not table:
        raise not_found(f"No Azure OpenAI operation in the emulator matches '/{'/'.join(parts)}'.")
    if method not in table:
        raise OpenAIError(405, "invalidPayload", f"The operation does not support the http method '{method}'.")
    return table[method]


def _file_routes(rest: list[str]) -> dict[str, Route]:
    if not rest:
        return {"GET": files.listing}
    file_id = rest[0]
    if len(rest) == 1:
        return {"GET": lambda c: files.get(c, file_id), "DELETE": lambda c: files.delete(c, file_id)}
    if len(rest) == 2 and rest[1].lower() == "content":
        return {"GET": lambda c: files.content(c, file_id)}
    return {}


def _job_routes(rest: list[str]) -> dict[str, Route]:
    if not rest:
        return {"GET": jobs.listing, "POST": jobs.create}
    job_id = rest[0]
    if len(rest) == 1:
        return {"GET": lambda c: jobs.get(c, job_id)}
    if len(rest) == 2 and rest[1].lower() == "cancel":
        return {"POST": lambda c: jobs.cancel(c, job_id)}
    return {}
