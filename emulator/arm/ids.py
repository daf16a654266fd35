"""ARM resource-id helpers: case-insensitive keys, the type an id implies, and path splitting.

ARM compares ids case-insensitively (`resourcegroups` and `resourceGroups` both occur in the wild),
so every lookup goes through `key()`.
"""

from __future__ import annotations

_PAIRS = ("{t0}/{n0}", "{t1}/{n1}", "{t2}/{n2}", "{t3}/{n3}", "{t4}/{n4}")
#: Route templates for a resource that extension resources (role assignments, diagnostic settings) attach to.
#: Templates cannot capture a variable number of segments, so each shape is spelled out: a resource in a group
#: with up to four levels of children (a vault's key is one child), or at subscription level with up to two.
RESOURCE_TEMPLATES: tuple[str, ...] = (
    *("subscriptions/{sub}/resourcegroups/{rg}/providers/{ns}/" + "/".join(_PAIRS[:n]) for n in range(1, 6)),
    *("subscriptions/{sub}/providers/{ns}/" + "/".join(_PAIRS[:n]) for n in range(1, 3)),
)


def key(resource_id: str) -> str:
    """The lookup key of an id: lower case, no trailing slash."""
    return resource_id.rstrip("/").lower()


def segments(path: str) -> list[str]:
    """The non-empty segments of an id or of a request path, which the server has already percent-decoded
    once, as ARM does. Decoding again here made `accounts/aoai%252Dchat` reach `aoai-chat`, hiding a client
    that encodes twice (docs/emulator.md, "Paths are decoded once")."""
    return [s for s in path.split("/") if s]


def last_providers(segs: list[str]) -> int | None:
    """The index of the last `providers` segment (extension resources nest one id in another), or None."""
    lowered = [s.lower() for s in segs]
    if "providers" not in lowered:
        return None
    return len(lowered) - 1 - lowered[::-1].index("providers")


def after_providers(resource_id: str) -> list[str]:
    """The segments after the last `providers` (namespace, type, name, ...), or the whole path without one."""
    segs = segments(resource_id)
    start = last_providers(segs)
    return segs if start is None else segs[start + 1 :]


def scope_of(resource_id: str) -> str:
    """What a resource lives at: the id before its last `/providers/` (a subscription, group or resource)."""
    segs = segments(resource_id)
    start = last_providers(segs)
    return "/" + "/".join(segs if start is None else segs[:start])


def type_from_id(resource_id: str) -> str:
    """`Namespace/type[/childType...]` from an id; the last `providers` segment wins (extension resources)."""
    rest = after_providers(resource_id)
    if last_providers(segments(resource_id)) is None or len(rest) < 3 or len(rest) % 2 == 0:
        raise ValueError(
            f"not an ARM resource id (no providers segment or type/name pairs incomplete): {resource_id!r}"
        )
    return "/".join([rest[0], *rest[1::2]])


def name_from_id(resource_id: str) -> str:
    return segments(resource_id)[-1]


def parent_id(resource_id: str) -> str:
    """The id one type/name pair up (a deployment's account)."""
    return "/" + "/".join(segments(resource_id)[:-2])


def subscription(path: str) -> str | None:
    segs = segments(path)
    return segs[1] if len(segs) > 1 and segs[0].lower() == "subscriptions" else None


def resource_group(resource_id: str) -> str | None:
    segs = segments(resource_id)
    lowered = [s.lower() for s in segs]
    if "resourcegroups" in lowered:
        i = lowered.index("resourcegroups")
        if i + 1 < len(segs):
            return segs[i + 1]
    return None


def location_slug(location: str | None) -> str:
    """ARM's normalized location name ("West US" -> "westus"), as used in operation-status URLs."""
    return (location or "global").replace(" ", "").lower()


def same_type(a: str, b: str) -> bool:
    return a.lower() == b.lower()
