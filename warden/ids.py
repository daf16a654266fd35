"""ARM resource ids: the rules an id must meet before warden acts on it, and its one canonical spelling.

Every id is ASCII here. Python's Unicode case-insensitive matching equates look-alikes with ASCII letters
(the long s U+017F with `s`, the Kelvin sign U+212A with `k`), and `str.lower()` folds some of them to ASCII
but not others, so a look-alike could reach the real account while taking a lock, an attempt counter
and a pending entry of its own. Hence: patterns are `re.ASCII`, case is folded on ASCII letters only, and
intake refuses any id that is not ASCII or breaks ARM's naming rules (docs/events.md, "Resource ids").

The naming rules are ARM's, from the upstream files: a subscription id is a GUID; a resource group name is
1-90 of `-_.()`, letters and digits, not ending in `.` (ARM also allows non-ASCII letters there; warden does
not); Cognitive Services account names are 2-64 characters of `^[a-zA-Z0-9][a-zA-Z0-9_.-]*$` and RAI policy
names follow the same pattern (azure-mgmt-cognitiveservices 14.1.0, operations/_accounts_operations.py and
_rai_policies_operations.py, which carry the swagger's constraints). `.` and `..` never pass as a segment:
HTTP clients collapse them, so a GET would reach another URL (the list, or the provider).
"""

from __future__ import annotations

import re
import string

from warden.vault_model import vault_name_of

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_SLASHES = re.compile(r"/{2,}")
_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_GROUP = r"[-\w.()]{0,89}[-\w()]"  # \w is [A-Za-z0-9_] under re.ASCII
_NAME = r"[a-zA-Z0-9][a-zA-Z0-9_.-]*"
_ACCOUNT = r"[a-zA-Z0-9][a-zA-Z0-9_.-]{1,63}"  # _NAME, 2-64 characters

#: Per rule: the pattern a value must fully match (re.ASCII), and the rule as messages state it.
RULES: dict[str, tuple[re.Pattern[str], str]] = {
    "subscription": (re.compile(_GUID, re.ASCII), "a subscription id is a GUID"),
    "resource group": (
        re.compile(_GROUP, re.ASCII),
        "a resource group name is 1-90 letters, digits, '-', '_', '.', '(' or ')' and does not end in '.'",
    ),
    "account": (
        re.compile(_ACCOUNT, re.ASCII),
        "a Cognitive Services account name is 2-64 letters, digits, '-', '_' or '.', starting with a letter or digit",
    ),
    "RAI policy": (
        re.compile(_NAME, re.ASCII),
        "an RAI policy name is letters, digits, '-', '_' or '.', starting with a letter or digit",
    ),
}
#: Microsoft.CognitiveServices types whose names have a rule of their own (lower-case type -> rule).
_COGNITIVE_NAMES = {"accounts": "account", "raipolicies": "RAI policy"}
_COGNITIVE = "microsoft.cognitiveservices"

_ACCOUNT_PREFIX = re.compile(
    rf"^/subscriptions/(?P<sub>{_GUID})/resourcegroups/(?P<rg>{_GROUP})"
    rf"/providers/microsoft\.cognitiveservices/accounts/(?P<name>{_ACCOUNT})(?=/|$)",
    re.ASCII | re.IGNORECASE,
)

#: A role assignment made at a resource group (its scope is the group itself).
_GROUP_ASSIGNMENT = re.compile(
    rf"^/subscriptions/(?P<sub>{_GUID})/resourcegroups/(?P<rg>{_GROUP})"
    r"/providers/microsoft\.authorization/roleassignments/[^/]+/?$",
    re.ASCII | re.IGNORECASE,
)


_VAULT_ID = re.compile(
    rf"^/subscriptions/(?P<sub>{_GUID})/resourcegroups/(?P<rg>{_GROUP})"
    r"/providers/microsoft\.keyvault/vaults/(?P<name>[^/]+)$",
    re.ASCII | re.IGNORECASE,
)


class IdRuleError(ValueError):
    """An id that breaks a rule; the message says which value and which rule."""


def is_guid(value: str) -> bool:
    """Whether `value` is a GUID (ASCII hex, either case): subscription, tenant, object and application ids."""
    return RULES["subscription"][0].fullmatch(value) is not None


def ascii_lower(text: str) -> str:
    """`text` with A-Z lower-cased and nothing else changed (str.lower() would fold the Kelvin sign to `k`)."""
    return text.translate(_ASCII_LOWER)


def normalize_id(resource_id: str) -> str:
    """The canonical spelling of an ARM id: the one key that locks, attempt counters, pending entries and
    de-duplication use. ASCII lower-case (so `resourceGroups` and `resourcegroups` agree), no duplicate or
    trailing slash. A non-ASCII letter is left as it is, so a look-alike never takes a real id's key."""
    return _SLASHES.sub("/", ascii_lower(resource_id.strip(" \t\r\n"))).rstrip("/")


def same_id(a: str, b: str) -> bool:
    """Whether two ARM ids name the same resource (`resourcegroups` vs `resourceGroups` both occur)."""
    return normalize_id(a) == normalize_id(b)


def account_id_of(resource_id: str) -> str | None:
    """The Cognitive Services account a resource id is, or sits under (a deployment, an RAI policy, a role
    assignment scoped to the account), as spelled in `resource_id`; None when it is not under an account or
    is not a valid ASCII account id (a look-alike spelling, a name ARM forbids)."""
    resource_id = resource_id.strip(" \t\r\n")
    if not resource_id.isascii():
        return None
    match = _ACCOUNT_PREFIX.match(resource_id)
    return match.group(0) if match else None


def account_parts(resource_id: str) -> tuple[str, str, str]:
    """(subscription, resource group, account name) of an account id (a trailing slash allowed); IdRuleError
    for anything else: a child resource, a look-alike spelling, a name that breaks a rule."""
    value = resource_id.strip(" \t\r\n")
    value = value[:-1] if value.endswith("/") else value
    check_arm_id(value)
    match = _ACCOUNT_PREFIX.match(value)
    if not match or match.end() != len(value):
        raise IdRuleError(f"is {resource_id!r}, not a Cognitive Services account id")
    return match["sub"], match["rg"], match["name"]


#: The characters an ARM id or scope may hold where an SDK puts it into a URL path unquoted (`scope`,
#: `roleAssignmentId`, `resourceUri` skip quoting): a `?`, `#` or `%` would change which URL is asked.
URL_SAFE_ID = re.compile(r"[A-Za-z0-9/_.()\-]*", re.ASCII)
_ASSIGNMENTS = "/providers/microsoft.authorization/roleassignments/"


def assignment_scope(assignment_id: str) -> str:
    """The scope in a role assignment's id (`{scope}/providers/Microsoft.Authorization/roleAssignments/{name}`),
    as spelled there; `/` for an assignment at the tenant root (or an id that is no assignment's)."""
    head, _, _ = ascii_lower(assignment_id).rpartition(_ASSIGNMENTS)
    return assignment_id[: len(head)] or "/"


def is_assignment_id(resource_id: str) -> bool:
    """Whether the id names a role assignment (at any scope)."""
    return _ASSIGNMENTS in ascii_lower(resource_id)


def at_or_above(candidate: str, scope: str) -> bool:
    """`candidate` is `scope` or contains it (by id segments, case-insensitively; `/` contains every scope)."""
    mine = [ascii_lower(s) for s in candidate.split("/") if s]
    theirs = [ascii_lower(s) for s in scope.split("/") if s]
    return theirs[: len(mine)] == mine


def subscription_of(scope: str) -> str:
    """The subscription id a scope or resource id lies in (`/subscriptions/{id}/...`, a leading slash optional);
    "" for a management group or the tenant root. Clients are built per subscription; by-scope calls ignore it."""
    parts = [s for s in scope.split("/") if s]
    return parts[1] if len(parts) > 1 and ascii_lower(parts[0]) == "subscriptions" else ""


def group_assignment_parts(resource_id: str) -> tuple[str, str] | None:
    """(subscription, resource group) of a role assignment made at a resource group; None for any other id."""
    match = _GROUP_ASSIGNMENT.match(resource_id.strip(" \t\r\n"))
    return (match["sub"], match["rg"]) if match else None


def vault_parts(resource_id: str) -> tuple[str, str, str]:
    """(subscription, resource group, vault name) of a Key Vault id (a trailing slash allowed);
    IdRuleError for anything else, or a name Key Vault's rules forbid."""
    value = resource_id.strip(" \t\r\n")
    value = value[:-1] if value.endswith("/") else value
    check_arm_id(value)
    match = _VAULT_ID.match(value)
    if match is None:
        raise IdRuleError(f"is {resource_id!r}, not a Microsoft.KeyVault/vaults id")
    try:
        vault_name_of(match["name"])
    except ValueError as exc:
        raise IdRuleError(f"has an invalid vault name: {exc}") from None
    return match["sub"], match["rg"], match["name"]


def deployment_parts(deployment_id: str) -> tuple[str, str, str, str]:
    """(subscription, resource group, account name, deployment name) of a deployment id (a trailing slash
    allowed); IdRuleError for anything else. The account part meets the rules above; a deployment name
    has no pattern in the swagger, and check_arm_id already refuses empty, `.`/`..` and non-ASCII segments."""
    value = deployment_id.strip(" \t\r\n")
    value = value[:-1] if value.endswith("/") else value
    check_arm_id(value)
    parent, _, name = value.rpartition("/")
    account, _, kind = parent.rpartition("/")
    if ascii_lower(kind) != "deployments" or not name:
        raise IdRuleError(f"is {deployment_id!r}, not a Cognitive Services deployment id")
    sub, rg, account_name = account_parts(account)
    return sub, rg, account_name, name


_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f]")


def check_arm_id(resource_id: str) -> str:
    """`resource_id` (less one trailing slash) when it is an ASCII ARM id under a subscription that meets
    the naming rules above; IdRuleError naming the first value at fault and its rule otherwise."""
    if not resource_id.isascii():
        at, char = next((i, c) for i, c in enumerate(resource_id) if not c.isascii())
        raise IdRuleError(
            f"is not ASCII ({char!r}, U+{ord(char):04X}, at position {at}); warden accepts ASCII ids only, since "
            f"a look-alike letter would pass for another resource's: {resource_id!r}"
        )
    bad = _CONTROL_CHARACTER.search(resource_id)  # one C pass: every id of every request comes through here
    if bad is not None:
        raise IdRuleError(f"holds the control character U+{ord(bad[0]):04X}: {resource_id!r}")
    value = resource_id[:-1] if resource_id.endswith("/") else resource_id
    segs = value.split("/")
    if segs[0] != "" or len(segs) < 3 or ascii_lower(segs[1]) != "subscriptions":
        raise IdRuleError(f"is {resource_id!r}, not an ARM resource id (/subscriptions/...)")
    segs = segs[1:]
    if "" in segs:
        raise IdRuleError(f"has an empty segment ('//'): {resource_id!r}")
    if "." in segs or ".." in segs:
        raise IdRuleError(
            f"has a '.' or '..' segment, which is no ARM name (HTTP would collapse it into another URL): "
            f"{resource_id!r}"
        )
    lowered = [ascii_lower(s) for s in segs]
    starts = [i + 2 for i, s in enumerate(lowered[:-1]) if s == "providers" and lowered[i + 1] == _COGNITIVE]
    if not starts:
        # Not a Cognitive Services id: warden never reads or changes it (routing drops it), so the upstream
        # examples' placeholders (`{subscription-id}`) pass; only the rules above, which any id meets, apply.
        return value
    _check_name("subscription", segs[1], resource_id)
    if lowered[2] == "resourcegroups":  # a providers segment follows, so the group has a name
        _check_name("resource group", segs[3], resource_id)
    for start in starts:
        _check_cognitive(segs[start:], lowered[start:], resource_id)
    return value


def _check_cognitive(rest: list[str], lowered: list[str], resource_id: str) -> None:
    """The type/name pairs after `providers/Microsoft.CognitiveServices`, up to any nested `providers`."""
    for i in range(0, len(rest) - 1, 2):
        if lowered[i] == "providers":
            return
        rule = _COGNITIVE_NAMES.get(lowered[i])
        if rule is not None:
            _check_name(rule, rest[i + 1], resource_id)


def _check_name(rule: str, value: str, resource_id: str) -> None:
    pattern, text = RULES[rule]
    if not pattern.fullmatch(value):
        raise IdRuleError(f"has {rule} {value!r}, which breaks ARM's naming rule ({text}): {resource_id!r}")
