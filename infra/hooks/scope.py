"""azd hook (prepackage, preprovision): resolves the subscriptions warden watches, stores them for Bicep as
WARDEN_SUBSCRIPTION_IDS, and fills baseline.yaml's scope and default workspace by a text edit that keeps every comment.
Standard library only; idempotent (a second run changes nothing)."""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from pathlib import Path

from _azd import Hook, env, is_guid, last_line, split_list, unique

HOOK = Hook("warden scope")
PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
#: Where the hook last took WARDEN_SUBSCRIPTION_IDS from, and the value it wrote ("<source> <ids>"): a list this hook
#: wrote is re-derived on the next run, a list the admin set is theirs (and conflicts with a management group).
SOURCE_KEY = "WARDEN_SUBSCRIPTION_IDS_FROM"
_SUB_IN_ID = re.compile(r"/subscriptions/([^/]+)$", re.IGNORECASE)
_LAYOUT_FIX = "write it as a block list, one `- <subscription id>` line per item, or as `[id, id]` on one line"


@dataclass(frozen=True)
class Edit:
    """Replace lines[start:stop] with `new`; `line` (1-based) and `note` describe it."""

    start: int
    stop: int
    new: list[str]
    line: int
    note: str


@dataclass(frozen=True)
class Scope:
    """The resolved subscriptions; `source` names where the hook took them from ("" when the admin listed them), and
    `previous` holds what the hook last wrote from that same source (a baseline list equal to it is the hook's own)."""

    ids: list[str]
    source: str
    previous: frozenset[str]


# -- the subscriptions --------------------------------------------------------------------------------------------


def from_management_group(group: str) -> list[str]:
    """Every subscription under the group, in its child groups too (the tree, walked depth first)."""
    argv = ["az", "account", "management-group", "show", "--name", group, "--expand", "--recurse"]
    proc = HOOK.run([*argv, "--output", "json"])
    if proc.returncode != 0:
        HOOK.fail(
            f"could not list the subscriptions under management group {group!r} ({last_line(proc.stderr)}): check "
            "WARDEN_MANAGEMENT_GROUP is the group's id (not its display name) and that `az login` is signed in to "
            "its tenant with read access to it"
        )
    try:
        tree = json.loads(proc.stdout)
    except ValueError:
        tree = None
    if not isinstance(tree, dict):
        HOOK.fail(
            f"`{' '.join(argv)}` did not print a JSON object: update the Azure CLI (az upgrade) and run this again"
        )
    ids: list[str] = []
    pending = list(tree.get("children") or [])
    while pending:
        child = pending.pop(0)
        if not isinstance(child, dict):
            HOOK.fail(f"management group {group!r}: az listed a child that is not an object: {str(child)[:200]}")
        if str(child.get("type", "")).lower().endswith("/subscriptions"):
            found = subscription_of(child)
            if found is None:
                HOOK.fail(f"management group {group!r}: az listed a subscription with no id: {str(child)[:200]}")
            ids.append(found)
        else:
            pending[0:0] = list(child.get("children") or [])
    if not ids:
        HOOK.fail(
            f"management group {group!r} has no subscription under it (nor under its child groups): name the group "
            "that holds the subscriptions, or list them with `azd env set WARDEN_SUBSCRIPTION_IDS <id>,<id>`"
        )
    return ids


def subscription_of(entry: object) -> str | None:
    """A listed subscription's id: its "name", or the GUID that ends its "id" (.../subscriptions/<guid>)."""
    if not isinstance(entry, dict):
        return None
    name, full = entry.get("name"), entry.get("id")
    if isinstance(name, str) and is_guid(name):
        return name
    found = _SUB_IN_ID.search(full.rstrip("/")) if isinstance(full, str) else None
    return found.group(1) if found and is_guid(found.group(1)) else None


def resolve() -> Scope:
    """The subscriptions, lower-cased and each once, with where they come from."""
    group, listed, marker = env("WARDEN_MANAGEMENT_GROUP"), env("WARDEN_SUBSCRIPTION_IDS"), env(SOURCE_KEY)
    ours = bool(listed) and marker.rpartition(" ")[2] == listed.replace(" ", "")
    explicit = "" if ours else listed
    if group and explicit:
        HOOK.fail(
            f"both WARDEN_MANAGEMENT_GROUP ({group}) and WARDEN_SUBSCRIPTION_IDS ({explicit}) are set: keep one, "
            "e.g. `azd env set WARDEN_SUBSCRIPTION_IDS ''` to watch the management group"
        )
    if group:
        raw, source, origin = from_management_group(group), f"management-group:{group}", f"management group {group}"
    elif explicit:
        raw, source, origin = split_list(explicit), "", "WARDEN_SUBSCRIPTION_IDS"  # its items: checked below
    elif env("AZURE_SUBSCRIPTION_ID"):
        raw, source, origin = [env("AZURE_SUBSCRIPTION_ID")], "AZURE_SUBSCRIPTION_ID", "AZURE_SUBSCRIPTION_ID"
    else:
        HOOK.fail(
            "no subscription to watch: set WARDEN_MANAGEMENT_GROUP or WARDEN_SUBSCRIPTION_IDS, or choose the "
            "deployment's subscription (`azd env set AZURE_SUBSCRIPTION_ID <id>`)"
        )
    for item in raw:
        if not is_guid(item):
            HOOK.fail(f"{origin}: {item!r} is not a subscription id (a GUID): fix it with `azd env set {origin} <id>`")
    ids = unique(item.lower() for item in raw)
    HOOK.say(f"watching {len(ids)} subscription(s) from {origin}: {', '.join(ids)}")
    before, _, wrote = marker.rpartition(" ")
    previous = frozenset(split_list(wrote)) if source and before == source else frozenset()
    return Scope(ids, source, previous)


def store(scope: Scope) -> None:
    """Sets WARDEN_SUBSCRIPTION_IDS (and the hook's source marker) in the azd environment, only when they changed."""
    joined = ",".join(scope.ids)
    wanted = {"WARDEN_SUBSCRIPTION_IDS": joined}
    if scope.source:
        wanted[SOURCE_KEY] = f"{scope.source} {joined}"
    selector = ["--environment", env("AZURE_ENV_NAME")] if env("AZURE_ENV_NAME") else []
    for key, value in wanted.items():
        if env(key) == value:
            continue
        proc = HOOK.run(["azd", "env", "set", key, value, *selector])
        if proc.returncode != 0:
            HOOK.fail(f"`azd env set {key}` failed ({last_line(proc.stderr)}): run it by hand, then run this again")
        if key == "WARDEN_SUBSCRIPTION_IDS":
            HOOK.say(f"set WARDEN_SUBSCRIPTION_IDS={joined} in the azd environment")
    if env("WARDEN_SUBSCRIPTION_IDS") == joined:
        HOOK.say("WARDEN_SUBSCRIPTION_IDS is up to date")


# -- the baseline text --------------------------------------------------------------------------------------------


def indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def is_content(line: str) -> bool:
    text = line.strip()
    return bool(text) and not text.startswith("#")


def ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")) :]


def split_comment(text: str) -> tuple[str, str]:
    """`value  # note` -> ("value", "  # note"): a # outside quotes, at the start or after a blank, opens a comment."""
    quote = ""
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or text[i - 1] in " \t"):
            value = text[:i].rstrip()
            return value, text[len(value) :]
    return text.rstrip(), ""


def unquote(text: str) -> tuple[str, str]:
    """A scalar's text and its quote character ("" when plain)."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1], text[0]
    return text, ""


def block_end(lines: list[str], start: int, parent: int) -> int:
    """The index of the first content line after `start` indented no deeper than `parent`."""
    rest = range(start + 1, len(lines))
    return next((j for j in rest if is_content(lines[j]) and indent_of(lines[j]) <= parent), len(lines))


def find_key(lines: list[str], key: str, start: int, stop: int) -> int | None:
    """The line of `key:` among the direct children of lines[start:stop] (the first content line sets their indent)."""
    first = next((j for j in range(start, stop) if is_content(lines[j])), None)
    if first is None:
        return None
    name = re.escape(key)
    pattern = re.compile(rf" {{{indent_of(lines[first])}}}(?:{name}|\"{name}\"|'{name}')\s*:(?:\s|$)")
    return next((j for j in range(first, stop) if pattern.match(lines[j])), None)


def after_colon(line: str) -> tuple[int, str, str]:
    """The offset of a `key: value` line's value, the value, and its trailing comment (with the blanks before it)."""
    offset = line.index(":") + 1
    rest = line[offset:].rstrip("\r\n")
    value, comment = split_comment(rest)
    lead = len(value) - len(value.lstrip())
    return offset + lead, value.strip(), comment


def subscriptions_edit(lines: list[str], path: Path, scope: Scope) -> Edit | None:
    top = find_key(lines, "scope", 0, len(lines))
    if top is None or indent_of(lines[top]) != 0:
        HOOK.fail(f"{path}: no top-level `scope:` block: add `scope:` with `subscriptions:` (see docs/baseline.md)")
    key = find_key(lines, "subscriptions", top + 1, block_end(lines, top, 0))
    if key is None:
        HOOK.fail(f"{path}:{top + 1}: `scope:` has no `subscriptions:` list: add one (see docs/baseline.md)")
    where = f"{path}:{key + 1}"
    offset, value, comment = after_colon(lines[key])
    if value.startswith("["):
        if not value.endswith("]"):
            HOOK.fail(f"{where}: a flow list over several lines is not handled: {_LAYOUT_FIX}")
        items = [unquote(item.strip()) for item in value[1:-1].split(",") if item.strip()]
        quote = items[0][1] if items else ""
        rendered = "[" + ", ".join(f"{quote}{i}{quote}" for i in scope.ids) + "]"
        new = [lines[key][:offset] + rendered + comment + ending(lines[key])]
        return _decide(where, [text for text, _ in items], scope, Edit(key, key + 1, new, key + 1, ""))
    if value:
        HOOK.fail(f"{where}: scope.subscriptions is not a list: {_LAYOUT_FIX}")
    rows = _block_items(lines, key, where)
    if not rows:
        HOOK.fail(f"{where}: scope.subscriptions lists nothing: {_LAYOUT_FIX}")
    first, last = rows[0][0], rows[-1][0]
    dash, item_comment = lines[first].index("-"), split_comment(lines[first].rstrip("\r\n"))[1]
    quote, end = unquote(rows[0][1])[1], ending(lines[last]) or "\n"
    new = [
        f"{lines[first][:dash]}- {quote}{i}{quote}{item_comment if not n else ''}{end}" for n, i in enumerate(scope.ids)
    ]
    new[-1] = new[-1][: len(new[-1]) - len(end)] + ending(lines[last])
    return _decide(where, [unquote(text)[0] for _, text in rows], scope, Edit(first, last + 1, new, first + 1, ""))


def _block_items(lines: list[str], key: int, where: str) -> list[tuple[int, str]]:
    """The `- item` lines under a key: (index, the item's text without its comment)."""
    rows: list[tuple[int, str]] = []
    parent = indent_of(lines[key])
    for j in range(key + 1, len(lines)):
        line = lines[j]
        if not is_content(line):
            continue
        text = line.strip()
        if indent_of(line) < parent or (indent_of(line) == parent and not text.startswith("-")):
            break
        if not re.match(r"-\s", text) or (rows and indent_of(line) != indent_of(lines[rows[0][0]])):
            HOOK.fail(f"{where}: line {j + 1} is not a `- <subscription id>` item: {_LAYOUT_FIX}")
        item = split_comment(text[1:].strip())[0]
        if not item or item[0] in "[{-|>":
            HOOK.fail(f"{where}: line {j + 1} is not a `- <subscription id>` item: {_LAYOUT_FIX}")
        rows.append((j, item))
    return rows


def _decide(where: str, current: list[str], scope: Scope, edit: Edit) -> Edit | None:
    """Fill a placeholder (or empty) list, or update the list the hook wrote; leave an equal one; refuse another."""
    have, ids = {item.strip().lower() for item in current}, scope.ids
    if have == set(ids):
        return None
    if have <= {PLACEHOLDER} or have == scope.previous:
        return Edit(edit.start, edit.stop, edit.new, edit.line, f"scope.subscriptions set to {', '.join(ids)}")
    HOOK.fail(
        f"{where}: the baseline watches {', '.join(sorted(have))} but the deployment subscribes and grants "
        f"{', '.join(sorted(ids))}: make them equal (edit scope.subscriptions there, or change WARDEN_SUBSCRIPTION_IDS "
        "/ WARDEN_MANAGEMENT_GROUP with `azd env set`)"
    )


def workspace_edit(lines: list[str], path: Path) -> Edit | None:
    """Fills an empty logging.diagnostics workspace_id with the workspace the deployment creates."""
    top = find_key(lines, "controls", 0, len(lines))
    if top is None or indent_of(lines[top]) != 0 or after_colon(lines[top])[1]:
        return None
    control = find_key(lines, "logging.diagnostics", top + 1, block_end(lines, top, 0))
    if control is None:
        return None
    if after_colon(lines[control])[1]:
        HOOK.say(f"{path}:{control + 1}: logging.diagnostics is not a block mapping: its workspace_id is left as is")
        return None
    key = find_key(lines, "workspace_id", control + 1, block_end(lines, control, indent_of(lines[control])))
    if key is None:
        HOOK.say(f"{path}:{control + 1}: logging.diagnostics has no workspace_id line: left as is")
        return None
    offset, value, comment = after_colon(lines[key])
    text, quote = unquote(value)
    if text.strip():
        return None
    subscription, name = env("AZURE_SUBSCRIPTION_ID"), env("AZURE_ENV_NAME")
    if not (is_guid(subscription) and name):
        HOOK.fail(
            f"{path}:{key + 1}: cannot name the deployment's workspace without AZURE_SUBSCRIPTION_ID (a GUID) and "
            "AZURE_ENV_NAME: run this through azd (`azd provision`), or fill workspace_id by hand"
        )
    workspace = (
        f"/subscriptions/{subscription}/resourceGroups/rg-{name}"
        f"/providers/Microsoft.OperationalInsights/workspaces/log-{name}"
    )
    quote = quote or '"'
    prefix = lines[key][:offset] + ("" if value else " ")  # `workspace_id:` with no value at all is null
    new = [f"{prefix}{quote}{workspace}{quote}{comment}{ending(lines[key])}"]
    return Edit(key, key + 1, new, key + 1, f"logging.diagnostics workspace_id set to {workspace}")


def fill_baseline(path: Path, scope: Scope) -> tuple[str, list[Edit]]:
    """The baseline's new text and the edits that make it (none when it is already filled)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        HOOK.fail(
            f"cannot read the baseline {path} ({exc.strerror}): run this from the repository root, or pass --baseline"
        )
    except UnicodeDecodeError:
        HOOK.fail(f"{path} is not UTF-8 text: save it as UTF-8")
    lines = text.splitlines(keepends=True)
    edits = [e for e in (subscriptions_edit(lines, path, scope), workspace_edit(lines, path)) if e is not None]
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        lines[edit.start : edit.stop] = edit.new
    return "".join(lines), sorted(edits, key=lambda e: e.start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline", type=Path, default=Path("baseline.yaml"), help="default: ./baseline.yaml")
    args = parser.parse_args(argv)
    scope = resolve()
    text, edits = fill_baseline(args.baseline, scope)  # checked before anything is changed
    store(scope)
    if not edits:
        HOOK.say(f"{args.baseline} is up to date")
        return 0
    args.baseline.write_bytes(text.encode("utf-8"))
    for edit in edits:
        HOOK.say(f"{args.baseline}:{edit.line}: {edit.note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
