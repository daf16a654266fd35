"""A raw event made safe to audit: claims reduced, the client IP removed, and hostile size or depth cut.

Everything here is iterative: a payload nested hundreds of levels deep must end as a `rejected` record, never
as a RecursionError that fails the function (Event Grid would then retry it for 24 hours, unrecorded).
docs/events.md "Hostile events: never a crash" describes the stored form.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence

from warden.ids import is_guid
from warden.model import Json
from warden.redact import REDACTED, is_secret_key

OID_CLAIMS = ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid")
APPID_CLAIMS = ("appid", "azp")
_KEPT_CLAIMS = frozenset(OID_CLAIMS + APPID_CLAIMS)
NOT_A_GUID = "[not a GUID]"

#: Deepest nesting of any top-level field an event may have; Event Grid's own events nest about 5 levels.
MAX_DEPTH = 64
#: A rejected event whose canonical JSON text is longer than this is stored cut (one append block is 4 MiB).
RAW_LIMIT = 16 * 1024
#: How much of the canonical text a cut raw event keeps.
HEAD_CHARS = 4096


def reduce_claims(claims: Json) -> dict[str, Json]:
    """Only the caller's object id and app id survive; names, UPNs, IP addresses and token ids are dropped.
    An object id that is not a GUID is not kept as given (it could be anything). Claims that are not an
    object (an old swagger typed them as a string) are dropped whole."""
    if not isinstance(claims, Mapping):
        return {}
    kept = {k: v for k, v in claims.items() if k in _KEPT_CLAIMS}
    for key in OID_CLAIMS:
        value = kept.get(key)
        if value is not None and not (isinstance(value, str) and is_guid(value)):
            kept[key] = NOT_A_GUID
    return kept


_SCALARS = (str, int, float, bool, type(None))


def nesting_depth(value: Json, limit: int) -> int:
    """How deep `value` nests (a scalar is 0, `{}` is 1), counted up to `limit + 1` and no further."""
    deepest = 0
    stack: list[tuple[Json, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, _SCALARS):
            continue
        if isinstance(item, Mapping):
            children: Sequence[Json] = list(item.values())
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in children if not isinstance(child, _SCALARS))
    return deepest


def _reduced_copy(item: Mapping[str, Json]) -> tuple[dict[str, Json], int]:
    """A copy with every member spelt `claims` (any case, any depth) reduced, every `clientIpAddress` gone
    and secret-named members redacted as the audit log redacts them; and how deep it nests."""
    root: dict[str, Json] = {}
    deepest = 1
    stack: list[tuple[Mapping[str, Json] | Sequence[Json], dict[str, Json] | list[Json], int]] = [(item, root, 1)]
    while stack:
        source, target, depth = stack.pop()
        deepest = max(deepest, depth)
        siblings = source if isinstance(source, Mapping) else None
        pairs = source.items() if isinstance(source, Mapping) else enumerate(source)
        for key, value in pairs:
            copied: Json = value
            if siblings is not None:
                name = str(key)
                if name.lower() == "clientipaddress":
                    continue
                if name.lower() == "claims":
                    copied = reduce_claims(value)
                elif is_secret_key(name, siblings):
                    copied = REDACTED
            if isinstance(copied, _SCALARS):
                pass
            elif isinstance(copied, Mapping):
                new_dict: dict[str, Json] = {}
                stack.append((copied, new_dict, depth + 1))
                copied = new_dict
            elif isinstance(copied, list | tuple):
                new_list: list[Json] = []
                stack.append((copied, new_list, depth + 1))
                copied = new_list
            else:
                copied = f"[{type(copied).__name__}]"  # not JSON: only its type, never its text
            if isinstance(target, dict):
                target[str(key)] = copied
            else:
                target.append(copied)
    return root, deepest


class _Literal(str):
    """A piece of JSON text already encoded (as opposed to a value still to encode)."""


def canonical_chunks(value: Json) -> Iterator[str]:
    """The canonical JSON text of `value` in pieces (keys sorted, no spaces, ASCII only, so a lone surrogate
    is an escape) without recursion: for values too deep for json.dumps."""
    stack: list[Json | _Literal] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Literal):
            yield item
        elif isinstance(item, Mapping):
            members = sorted(((str(k), v) for k, v in item.items()), key=lambda kv: kv[0])
            stack.append(_Literal("}"))
            for index in range(len(members) - 1, -1, -1):
                key, member = members[index]
                stack.append(member)
                stack.append(_Literal(("," if index else "") + json.dumps(key) + ":"))
            yield "{"
        elif isinstance(item, list | tuple):
            stack.append(_Literal("]"))
            for index in range(len(item) - 1, -1, -1):
                stack.append(item[index])
                if index:
                    stack.append(_Literal(","))
            yield "["
        else:
            yield json.dumps(item)


def canonical_text(value: Json, depth: int) -> str:
    """json.dumps(sort_keys, compact, ASCII) of a value that nests `depth` levels: in C when that is shallow
    enough for its stack, else piece by piece."""
    if depth <= MAX_DEPTH:
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return "".join(canonical_chunks(value))


def reduce_raw(item: Mapping[str, Json]) -> dict[str, Json]:
    """The raw event as a rejected record stores it: reduced (claims, client IP, secret-named members), and when
    it nests deeper than MAX_DEPTH or its canonical text is longer than RAW_LIMIT, only that text's sha256,
    length and head."""
    reduced, depth = _reduced_copy(item)
    text = canonical_text(reduced, depth)
    if depth <= MAX_DEPTH and len(text) <= RAW_LIMIT:
        return reduced
    why = f"nests deeper than {MAX_DEPTH} levels" if depth > MAX_DEPTH else f"is longer than {RAW_LIMIT} bytes"
    return {
        "truncated": True,
        "reason": f"the event's canonical JSON {why}",
        "sha256": hashlib.sha256(text.encode("ascii")).hexdigest(),
        "bytes": len(text),
        "head": text[:HEAD_CHARS],
    }
