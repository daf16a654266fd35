"""The ARM plane as a kernel service: auth, api-version, throttling, then routing to the platform routes,
a provider's own routes, the operation monitors, or the generic resource handlers.

Routing is derived from the providers' declarations: the last `/providers/{namespace}/...` of a path names
the type chain, an even number of segments after the namespace is a resource, an odd number a list (or,
for POST, an action on the resource before it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from emulator.kernel.http import Reply, Request
from emulator.kernel.world import World

from . import ids, platform, resources
from .errors import ArmError, method_not_allowed
from .lro import OperationBook
from .options import Options
from .paging import page
from .store import Store
from .throttle import RateLimits, stamp
from .types import Params, Provider, ResourceType, match

ProviderFactory = Callable[["Arm"], Provider]
_MONITORS = ("operationstatuses", "operationresults")
_RESOURCE_HANDLERS = {
    "GET": resources.get,
    "HEAD": resources.head,
    "PUT": resources.write,
    "PATCH": resources.write,
    "DELETE": resources.delete,
}


@dataclass(frozen=True)
class Resolved:
    """A matched route: what answers it and which api-versions it accepts (empty: any)."""

    handler: Callable[[], Reply]
    api_versions: tuple[str, ...]


class Arm:
    """Azure Resource Manager for the providers it is built with (see emulator/services)."""

    name = "arm"

    def __init__(self, world: World, factories: tuple[ProviderFactory, ...]) -> None:
        self.world = world
        self.store = Store()
        self.ops = OperationBook()
        self.options = Options.from_json(None)
        self.limits = RateLimits(world.clock, self.options.reads, self.options.writes)
        self.providers: dict[str, Provider] = {}
        for factory in factories:
            provider = factory(self)
            self.providers[provider.namespace.lower()] = provider
        self.types: dict[str, ResourceType] = {t.type.lower(): t for p in self.providers.values() for t in p.types}
        self.routes = (*platform.ROUTES, *(r for p in self.providers.values() for r in p.routes))
        self.sections = ("resources", "options", *(s.name for p in self.providers.values() for s in p.sections))

    # --- kernel service -------------------------------------------------------------------------
    def claims(self, req: Request) -> bool:
        return True  # the fallback: whatever no data-plane service claims is ARM's

    def tick(self) -> None:
        self.ops.settle(self.world.clock.now())

    def load(self, scenario: Mapping[str, Any]) -> None:
        self.store.load(scenario.get("resources", []))
        self.set_options(Options.from_json(scenario.get("options")))
        for provider in self.providers.values():
            for section in provider.sections:
                try:
                    section.load(scenario.get(section.name))
                except ValueError as err:
                    raise ValueError(f"{section.name}: {err}") from None

    def dump(self) -> dict[str, Any]:
        out: dict[str, Any] = {"resources": self.store.dump_resources(), "options": self.options.to_json()}
        for provider in self.providers.values():
            out.update({s.name: s.dump() for s in provider.sections})
        return out

    def set_options(self, options: Options) -> None:
        options.validate()
        self.options = options
        self.limits = RateLimits(self.world.clock, options.reads, options.writes)

    def error_reply(self, status: int, code: str, message: str, headers: Mapping[str, str]) -> Reply:
        return ArmError(status, code, message, headers=headers).reply()

    def decorate(self, req: Request, reply: Reply) -> None:
        stamp(req, reply)

    def page(self, req: Request, items: list[dict[str, Any]]) -> Reply:
        return page(req, self.world.endpoint, self.options.page_size, items)

    # --- requests -------------------------------------------------------------------------------
    def handle(self, req: Request) -> Reply:
        segs = ids.segments(req.path)
        anonymous = "/".join(s.lower() for s in segs) in platform.ANONYMOUS
        if not anonymous:
            _check_auth(req)
        if not req.query.get("api-version"):
            raise ArmError(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        resolved = self._resolve(req, segs)
        _check_api_version(req, resolved.api_versions)
        sub = ids.subscription(req.path)
        counter = self.limits.spend(sub, req.method) if sub else None
        reply = resolved.handler()
        if counter is not None:
            reply.headers[counter[0]] = str(counter[1])
        return reply

    def _resolve(self, req: Request, segs: list[str]) -> Resolved:
        method = req.method.upper()
        for route in self.routes:
            params = match(route.pattern, segs)
            if params is not None:
                handler = route.methods.get(method)
                if handler is None:
                    raise method_not_allowed(method)
                return Resolved(_bind(handler, self, req, params), route.api_versions)
        start = ids.last_providers(segs)
        if start is None:
            raise ArmError(404, "InvalidResourceType", f"No route in the emulator matches '{req.path}'.")
        scope, rest = "/" + "/".join(segs[:start]), segs[start + 1 :]
        if [s.lower() for s in rest] == ["microsoft.resources", "tags", "default"]:
            return Resolved(lambda: platform.tags(self, req, scope), platform.TAGS_VERSIONS)
        provider = self.providers.get(rest[0].lower()) if rest else None
        if provider is not None and len(rest) == 5 and rest[1].lower() == "locations" and rest[3].lower() in _MONITORS:
            monitor = resources.operation_status if rest[3].lower() == _MONITORS[0] else resources.operation_result
            return Resolved(lambda: monitor(self, req, rest[4]), provider.api_versions())
        return self._resource_route(req, segs, scope, rest)

    def _resource_route(self, req: Request, segs: list[str], scope: str, rest: list[str]) -> Resolved:
        method = req.method.upper()
        pairs = rest[1:]
        chain = [rest[0], *pairs[0::2]] if rest else []
        rtype = self.types.get("/".join(chain).lower())
        rid = "/" + "/".join(segs)
        if rtype is not None and pairs and len(pairs) % 2 == 0:
            if method not in _RESOURCE_HANDLERS or (method != "HEAD" and method not in rtype.methods):
                raise method_not_allowed(method)
            handler = _RESOURCE_HANDLERS[method]
            return Resolved(lambda: handler(self, rtype, req, rid), rtype.api_versions)
        if rtype is not None and pairs and method == "GET":
            under = "/" + "/".join(segs[:-1]) if len(pairs) > 1 else scope
            return Resolved(lambda: resources.listing(self, rtype, req, under), rtype.api_versions)
        owner = self.types.get("/".join(chain[:-1]).lower()) if len(chain) > 1 else None
        if owner is not None and len(pairs) % 2 == 1 and pairs[-1].lower() in owner.actions:
            action = owner.actions[pairs[-1].lower()]
            if method != "POST":
                raise method_not_allowed(method)
            params = {"id": "/" + "/".join(segs[:-1])}
            return Resolved(_bind(action, self, req, params), owner.api_versions)
        if method == "GET" and len(pairs) % 2 == 0:
            found = self.store.get(rid)  # a stored resource of a type no provider declares: readable by id
            if found is not None:
                return Resolved(lambda: Reply(200, found), ())
        raise _unknown_type(req, rest)


def _bind(
    handler: Callable[[Arm, Request, Params], Reply], arm: Arm, req: Request, params: Params
) -> Callable[[], Reply]:
    return lambda: handler(arm, req, params)


def _check_auth(req: Request) -> None:
    scheme, _, token = req.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ArmError(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing or is not a bearer token.",
            headers={
                "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common", '
                'error="invalid_token", error_description="The authentication failed because of missing '
                "'Authorization' header.\""
            },
        )


def _check_api_version(req: Request, supported: tuple[str, ...]) -> None:
    """An api-version the route's resource type does not support is 400 InvalidApiVersionParameter, listing
    the supported versions, as ARM answers."""
    version = req.query.get("api-version", "")
    if supported and version.lower() not in (v.lower() for v in supported):
        raise ArmError(
            400,
            "InvalidApiVersionParameter",
            f"The api-version '{version}' is invalid. The supported versions are '{','.join(supported)}'. "
            "Please see https://aka.ms/arm-api-versions for more details.",
        )


def _unknown_type(req: Request, rest: list[str]) -> ArmError:
    if rest:
        namespace, type_ = rest[0], "/".join(rest[1::2]) or rest[0]
        return ArmError(
            404,
            "InvalidResourceType",
            f"The resource type '{type_}' could not be found in the namespace '{namespace}' "
            f"for api version '{req.query.get('api-version', '')}'.",
        )
    return ArmError(404, "InvalidResourceType", f"No route in the emulator matches '{req.path}'.")
