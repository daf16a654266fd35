"""Who a token says its holder is: the claims of an Entra access token (a JWT), read without verifying it, for
`warden doctor` to show and compare with the loop guard's ids. The token itself is never kept or shown.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Identity:
    """The token's holder: object id, tenant, application (client) id, and a readable name when it has one."""

    object_id: str
    tenant_id: str
    app_id: str
    name: str

    def describe(self) -> str:
        who = self.name or (f"application {self.app_id}" if self.app_id else "an identity")
        return f"{who} (object id {self.object_id or 'unknown'}, tenant {self.tenant_id or 'unknown'})"


def token_claims(token: str) -> Mapping[str, object]:
    """The payload of a JWT as a mapping; empty for anything that is not one (an opaque token)."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return {}
    return claims if isinstance(claims, dict) else {}


def identity_of(claims: Mapping[str, object]) -> Identity:
    """Entra's claims: `oid`, `tid`, `appid` (v1 tokens) or `azp` (v2), `upn`/`unique_name`/`preferred_username`
    for users (an application has none of them)."""

    def claim(*names: str) -> str:
        return next((str(claims[n]) for n in names if isinstance(claims.get(n), str) and claims[n]), "")

    return Identity(
        object_id=claim("oid").lower(),
        tenant_id=claim("tid").lower(),
        app_id=claim("appid", "azp").lower(),
        name=claim("upn", "unique_name", "preferred_username", "name"),
    )


def unsigned_token(claims: Mapping[str, object]) -> str:
    """A JWT with `alg: none` and no signature: what the local emulator's static credential hands out, so that the
    emulator can tell which principal calls (it checks no signature; Azure would refuse it)."""

    def part(value: Mapping[str, object]) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."
