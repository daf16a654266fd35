"""Which account a data-plane request addresses (by custom subdomain; OpenAI and AIServices kinds only), and
whether its credential (a bearer token, or a key with local auth enabled) is good for that account.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from emulator.arm import ids
from emulator.arm.plane import Arm
from emulator.arm.store import Resource
from emulator.kernel.http import Request
from emulator.services.cognitiveservices.keys import ACCOUNT_TYPE
from emulator.services.cognitiveservices.versions import NAMESPACE

from .errors import not_found, unauthorized
from .versions import ACCOUNT_KINDS

# The first path segment is `properties.customSubDomainName` (the endpoint is `https://{subdomain}.openai.azure.com/`),
# compared case-insensitively; an account without one is reached by its name. A credential is compared, never
# logged or echoed.

_KEYS_SECTION = "accountKeys"  # the Cognitive Services provider's section that holds every account's keys


def _props(account: Mapping[str, Any]) -> Mapping[str, Any]:
    props = account.get("properties")
    return props if isinstance(props, Mapping) else {}


def subdomain_of(account: Mapping[str, Any]) -> str:
    """The account's custom subdomain, or its name when it has none."""
    custom = _props(account).get("customSubDomainName")
    return str(custom) if custom else ids.name_from_id(str(account["id"]))


def find(arm: Arm, subdomain: str) -> Resource:
    """The OpenAI (or AIServices) account the subdomain names; 404 notFound otherwise."""
    wanted = subdomain.lower()
    found = next((a for a in arm.store.of_type(ACCOUNT_TYPE, "") if subdomain_of(a).lower() == wanted), None)
    if found is None:
        raise not_found(f"No Azure OpenAI resource has the subdomain '{subdomain}'.")
    kind = str(found.get("kind") or "")
    if kind.lower() not in {k.lower() for k in ACCOUNT_KINDS}:
        raise not_found(
            f"The resource '{subdomain}' is of kind '{kind}', which has no Azure OpenAI data plane "
            f"(kinds {', '.join(ACCOUNT_KINDS)} have one)."
        )
    return found


def check_auth(arm: Arm, req: Request, account: Mapping[str, Any]) -> None:
    """A bearer token passes; an `api-key` must be one of the account's keys, with local auth enabled."""
    scheme, _, token = req.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return
    key = req.headers.get("api-key")
    if key is None:
        raise unauthorized("The request has no credential: send 'Authorization: Bearer <token>' or 'api-key'.")
    if _props(account).get("disableLocalAuth") is True:
        raise unauthorized("Key based authentication is disabled for this resource (disableLocalAuth is true).")
    if not any(hmac.compare_digest(key.encode(), known.encode()) for known in _keys(arm, str(account["id"]))):
        raise unauthorized("Access denied: the api-key is not a key of this resource.")


def _keys(arm: Arm, account_id: str) -> list[str]:
    """The account's key1 and key2 as the Cognitive Services provider holds them (minted by the scenario load
    or by listKeys: a client can only know a key that exists there)."""
    provider = arm.providers.get(NAMESPACE.lower())
    sections = provider.sections if provider is not None else ()
    book = next((s for s in sections if s.name == _KEYS_SECTION), None)
    held = book.dump() if book is not None else {}
    wanted = ids.key(account_id)
    pair: Mapping[str, Any] = next((p for original, p in held.items() if ids.key(original) == wanted), {})
    return [str(v) for v in pair.values() if v]
