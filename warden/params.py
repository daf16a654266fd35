"""Readers of control parameters: a YAML value in, the typed value out, or a ParamError saying what is wrong.

Pure; shared by the controls' declarations (`param(parse=...)`), so the same kind of value is checked alike.
"""

from __future__ import annotations

import ipaddress
import re

from warden.control import ParamError

#: The widest approved IP range: anything wider (0.0.0.0/0, /1 ... /7) would silently switch the control off.
WIDEST_APPROVED_PREFIX = 8
#: The most addresses all approved ranges together may cover (after merging overlaps): as many as one /8, so
#: that many narrower ranges (224 /8s, say) cannot add up to the internet that one wide range may not be.
MAX_APPROVED_ADDRESSES = 2 ** (32 - WIDEST_APPROVED_PREFIX)
# An RFC 1123 host name label; `*.` may lead a pattern (its subdomains), nothing else may be a wildcard.
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _kind(value: object) -> str:
    """A YAML value's kind in the admin's words (bool before int: a bool is an int in Python)."""
    kinds = ((bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string"), (list, "a list"))
    return next((name for t, name in kinds if isinstance(value, t)), "a mapping" if value is not None else "empty")


def _strings(value: object, what: str) -> list[str]:
    if not isinstance(value, list):
        raise ParamError(f"expected a list of {what}, got {_kind(value)}")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise ParamError(f"expected one of the {what} (a non-empty string), got {_kind(item)}", item=i)
        out.append(item.strip())
    return out


def boolean(value: object) -> bool:
    if not isinstance(value, bool):
        shown = f"{value!r}" if isinstance(value, str) else _kind(value)
        raise ParamError(f"expected true or false, got {shown}")
    return value


def ipv4_ranges(value: object) -> tuple[str, ...]:
    """IPv4 addresses or CIDR ranges, normalised; host bits set (10.0.0.5/24) are refused as ambiguous, and a
    range wider than a /8, or ranges covering more than a /8 in all, as opening much of the internet (0.0.0.0/0
    turns the control off)."""
    out: list[str] = []
    networks: list[ipaddress.IPv4Network] = []
    for i, text in enumerate(_strings(value, "IPv4 ranges")):
        try:
            network = ipaddress.IPv4Network(text, strict=False)
        except ValueError as exc:
            raise ParamError(f"{text!r} is not an IPv4 address or CIDR range", item=i) from exc
        if network.prefixlen < WIDEST_APPROVED_PREFIX:
            widest = f"the widest allowed range is a /{WIDEST_APPROVED_PREFIX}"
            raise ParamError(f"{text!r} approves {network.num_addresses} addresses; {widest}", item=i)
        if str(network.network_address) != text.split("/")[0]:
            raise ParamError(f"{text!r} has host bits set; did you mean '{network}'?", item=i)
        out.append(text if "/" not in text else str(network))
        networks.append(network)
    total = sum(n.num_addresses for n in ipaddress.collapse_addresses(networks))
    if total > MAX_APPROVED_ADDRESSES:
        raise ParamError(
            f"the ranges approve {total} addresses in all (overlaps merged); at most {MAX_APPROVED_ADDRESSES} "
            f"(as many as one /{WIDEST_APPROVED_PREFIX}) may be approved"
        )
    return tuple(out)


def fqdn_patterns(value: object) -> tuple[str, ...]:
    """Fully qualified domain names, lower-cased; `*.example.com` admits the subdomains of example.com. A bare
    `*` or a wildcard anywhere else would approve more than anyone can review, so it is refused."""
    out: list[str] = []
    for i, text in enumerate(_strings(value, "FQDNs")):
        name = text.lower().rstrip(".")
        host = name[2:] if name.startswith("*.") else name
        labels = host.split(".")
        if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
            hint = " (a wildcard may only lead: *.example.com)" if "*" in host else ""
            raise ParamError(f"{text!r} is not a fully qualified domain name{hint}", item=i)
        out.append(name)
    return tuple(out)
