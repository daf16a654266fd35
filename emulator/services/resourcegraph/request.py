"""A `QueryRequest` body read and checked (tests/fixtures/reference/resourcegraph/2024-04-01/resourcegraph.json),
and the opaque `$skipToken`: the last position served, the page size, and a digest of the query text and scopes,
so a token is refused with any other query or scope."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from emulator.arm.errors import json_object
from emulator.kernel.http import Request

from .errors import GraphError, bad_request
from .versions import DEFAULT_TOP, MAX_TOP


@dataclass(frozen=True)
class Ask:
    """What one query request asks: the text, its scopes (None: not given), paging and the result format."""

    query: str
    subscriptions: tuple[str, ...] | None
    groups: tuple[str, ...] | None
    top: int | None
    skip: int
    token: str | None
    table: bool

    @property
    def digest(self) -> str:
        scopes = {
            "query": self.query,
            "subscriptions": sorted(s.lower() for s in self.subscriptions or ()),
            "managementGroups": sorted(g.lower() for g in self.groups or ()),
        }
        return hashlib.sha256(json.dumps(scopes, sort_keys=True).encode()).hexdigest()[:32]


def _strings(body: Mapping[str, Any], name: str) -> tuple[str, ...] | None:
    found = body.get(name)
    if found is None:
        return None
    if not isinstance(found, list) or not all(isinstance(s, str) for s in found):
        raise bad_request("InvalidRequestContent", f"'{name}' must be a list of strings.")
    return tuple(found)


def _integer(options: Mapping[str, Any], name: str, low: int, high: int | None) -> int | None:
    found = options.get(name)
    if found is None:
        return None
    if not isinstance(found, int) or isinstance(found, bool) or found < low or (high is not None and found > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise bad_request("InvalidQueryOptions", f"options.{name} must be an integer {bounds}, got {found!r}.")
    return found


def read(req: Request) -> Ask:
    """The request's body as an Ask; 400 for a missing query or an option outside the swagger's bounds."""
    body = json_object(req)
    query = body.get("query")
    if not isinstance(query, str) or not query.strip():
        raise bad_request("InvalidQuery", "The request has no 'query': a KQL query string is required.")
    options = body.get("options") or {}
    if not isinstance(options, Mapping):
        raise bad_request("InvalidRequestContent", "'options' must be an object.")
    result_format = options.get("resultFormat", "objectArray")
    if not isinstance(result_format, str) or result_format.lower() not in ("table", "objectarray"):
        raise bad_request(
            "InvalidQueryOptions", f"options.resultFormat must be table or objectArray: {result_format!r}."
        )
    token = options.get("$skipToken")
    if token is not None and not isinstance(token, str):
        raise bad_request("InvalidSkipToken", "options.$skipToken must be a string.")
    return Ask(
        query=query,
        subscriptions=_strings(body, "subscriptions"),
        groups=_strings(body, "managementGroups"),
        top=_integer(options, "$top", 1, MAX_TOP),
        skip=_integer(options, "$skip", 0, None) or 0,
        token=token or None,
        table=result_format.lower() == "table",
    )


def encode_token(ask: Ask, position: list[Any], top: int) -> str:
    raw = json.dumps({"after": position, "top": top, "digest": ask.digest}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(ask: Ask) -> tuple[list[Any], int]:
    """(the position after which to go on, the page size) from the ask's token; 400 InvalidSkipToken for a
    malformed token or one issued for another query or other scopes."""
    token = ask.token or ""
    try:
        found = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        after, top, digest = found["after"], found["top"], found["digest"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise bad_request("InvalidSkipToken", "The $skipToken is not valid.") from None
    if not (isinstance(after, list) and len(after) == 2 and isinstance(after[0], list) and isinstance(top, int)):
        raise bad_request("InvalidSkipToken", "The $skipToken is not valid.")
    if digest != ask.digest:
        raise GraphError(
            "InvalidSkipToken",
            "The $skipToken was issued for another query or other scopes; pass it with the same query text, "
            "subscriptions and management groups as the request that returned it.",
        )
    return after, ask.top or top or DEFAULT_TOP
