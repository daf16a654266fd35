"""The Key Vault data plane as a kernel service, on a port of its own: `https://HOST:PORT2/{vault}/keys/...`.

The first path segment names the vault, which must exist as a Microsoft.KeyVault/vaults resource in the
ARM store (404 VaultNotFound otherwise). A request without a bearer token gets Key Vault's 401 challenge;
then the api-version is checked and the request routed to the key and secret routes. Errors, injected
faults included, are in Key Vault's shape; a secret's value never reaches the request log.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from emulator.arm.merge import EMULATOR_TENANT
from emulator.arm.plane import Arm
from emulator.kernel.http import Reply, Request
from emulator.kernel.world import World

from . import keys, secrets, vaults
from .call import Call
from .errors import KeyVaultError
from .state import KEYS_SECTION, SECRETS_SECTION, VaultData
from .versions import DATA_API_VERSIONS, LISTENER

Route = Callable[[Call], Reply]
REDACTED = "<redacted>"
# Request fields that carry secret material: a secret's value, an imported key, a crypto operation's input.
_SECRET_FIELDS = ("value", "key")


class KeyVaultPlane:
    """Keys, rotation policies and secrets of every vault the ARM store holds."""

    name = "keyvault"
    listener = LISTENER
    sections: tuple[str, ...] = (KEYS_SECTION, SECRETS_SECTION)

    def __init__(self, world: World) -> None:
        self.world = world
        self.data = VaultData()

    # --- kernel service -------------------------------------------------------------------------
    def claims(self, req: Request) -> bool:
        return req.listener == LISTENER

    def tick(self) -> None:
        """Nothing completes by time here (rotation policies are stored, never run)."""

    def load(self, scenario: Mapping[str, Any]) -> None:
        self.data.load(scenario)

    def dump(self) -> dict[str, Any]:
        return self.data.dump()

    def error_reply(self, status: int, code: str, message: str, headers: Mapping[str, str]) -> Reply:
        return KeyVaultError(status, code, message, headers=headers).reply()

    def decorate(self, req: Request, reply: Reply) -> None:
        reply.headers.setdefault("x-ms-request-id", str(uuid.uuid4()))

    def recorded_body(self, req: Request) -> Any:
        """The body for the request log, with secret values (`value`, an imported `key`) blanked."""
        if not isinstance(req.body, Mapping):
            return req.body
        return {k: (REDACTED if k in _SECRET_FIELDS else v) for k, v in req.body.items()}

    # --- requests -------------------------------------------------------------------------------
    def _arm(self) -> Arm:
        return next(s for s in self.world.services if isinstance(s, Arm))

    def handle(self, req: Request) -> Reply:
        segment, _, rest = req.path.lstrip("/").partition("/")
        vault = vaults.find(self._arm(), segment) if segment else None
        _check_auth(req, vault)
        _check_api_version(req)
        if vault is None:
            message = f"The vault '{segment}' does not exist (no Microsoft.KeyVault/vaults resource has that name)."
            raise KeyVaultError(404, "VaultNotFound", message)
        route = _route(req.method.upper(), rest.split("/"))
        with self.data.lock:
            call = Call(
                req=req,
                data=self.data,
                vault=vaults.name_of(vault),
                uri=vaults.vault_uri(vault),
                base=f"{self.world.endpoints.get(LISTENER, '')}/{segment}",
                recovery=vaults.recovery(vault),
                now=self.world.clock.now(),
            )
            return route(call)


def _check_auth(req: Request, vault: Mapping[str, Any] | None) -> None:
    """Key Vault's challenge: no bearer token, 401 naming the tenant's authority and the vault resource."""
    scheme, _, token = req.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return
    authority = f"https://login.microsoftonline.com/{vaults.tenant(vault, EMULATOR_TENANT)}"
    raise KeyVaultError(
        401,
        "Unauthorized",
        "AKV10000: Request is missing a Bearer or PoP token.",
        headers={"WWW-Authenticate": f'Bearer authorization="{authority}", resource="https://vault.azure.net"'},
    )


def _check_api_version(req: Request) -> None:
    version = req.query.get("api-version")
    if not version:
        raise KeyVaultError(400, "BadParameter", "The api-version query parameter is required.")
    if version not in DATA_API_VERSIONS:
        raise KeyVaultError(
            400,
            "BadParameter",
            f"The specified version ({version}) is not recognized. Consider using the latest supported version "
            f"({DATA_API_VERSIONS[0]}).",
        )


def _route(method: str, parts: list[str]) -> Route:
    """The handler for `/{keys|secrets}/...` (the path after the vault); 404/405 in Key Vault's shape."""
    collection = parts[0].lower()
    name = parts[1] if len(parts) > 1 else ""
    tail = parts[2] if len(parts) == 3 else None
    table: dict[str, Route] = {}
    if collection == "keys" and len(parts) == 1:
        table = {"GET": keys.listing}
    elif collection == "keys" and len(parts) in (2, 3):
        table = _key_routes(name, tail or "")
    elif collection == "secrets" and len(parts) == 1:
        table = {"GET": secrets.listing}
    elif collection == "secrets" and len(parts) in (2, 3):
        table = _secret_routes(name, tail)
    if not table:
        raise KeyVaultError(404, "NotFound", f"No Key Vault operation in the emulator matches '/{'/'.join(parts)}'.")
    if method not in table:
        raise KeyVaultError(405, "MethodNotAllowed", f"The requested resource does not support http method '{method}'.")
    return table[method]


def _key_routes(name: str, tail: str) -> dict[str, Route]:
    named = {
        "create": {"POST": lambda c: keys.create(c, name)},
        "rotate": {"POST": lambda c: keys.rotate(c, name)},
        "versions": {"GET": lambda c: keys.versions(c, name)},
        "rotationpolicy": {"GET": lambda c: keys.get_policy(c, name), "PUT": lambda c: keys.put_policy(c, name)},
    }
    return named.get(tail.lower()) or {
        "GET": lambda c: keys.get(c, name, tail),
        "PATCH": lambda c: keys.update(c, name, tail),
    }


def _secret_routes(name: str, tail: str | None) -> dict[str, Route]:
    if tail is not None and tail.lower() == "versions":
        return {"GET": lambda c: secrets.versions(c, name)}
    routes: dict[str, Route] = {
        "GET": lambda c: secrets.get(c, name, tail or ""),
        "PATCH": lambda c: secrets.update(c, name, tail or ""),
    }
    if tail is None:
        routes["PUT"] = lambda c: secrets.set_secret(c, name)
    return routes
