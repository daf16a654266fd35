"""The `log` and `verify` subcommands: read the audit log (a local folder or a blob container), filter it,
show it as a table or JSON lines, and check its hash chain.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
from collections import deque
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from warden.audit import AuditLog, LocalAuditLog, parse_time
from warden.audit_review import filter_entries, verify
from warden.errors import ConfigurationError
from warden.model import Json
from warden.text import printable

DEFAULT_DIR = ".warden/audit"
DEFAULT_CONTAINER = "warden-audit"
DETAIL_WIDTH = 80
_AGE = re.compile(r"([0-9]+)([smhdw])")
_COUNT = re.compile(r"[0-9]+")
_SURROGATE = re.compile("[\ud800-\udfff]")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_COLUMNS = ("SEQ", "TIME (UTC)", "KIND", "RESOURCE", "CONTROL", "MODE", "DECISION", "OUTCOME", "DETAIL")


def since_time(text: str, now: datetime | None = None) -> datetime:
    """An ISO-8601 time (naive means UTC) or an age such as 30s, 30m, 2h, 7d or 1w, counted back from `now`.

    Raises ValueError; the one parser behind `log --since` and `GET /api/audit?since=`."""
    age = _AGE.fullmatch(text.strip())
    try:
        if age:
            return (now or datetime.now(UTC)) - timedelta(**{_UNITS[age[2]]: int(age[1])})
        return parse_time(text.strip())
    except OverflowError:
        raise ValueError(f"an age reaching before year 1: {text!r}") from None
    except ValueError:
        raise ValueError(f"not an ISO-8601 time or an age like 2h or 7d: {text!r}") from None


def positive_count(text: str) -> int:
    """A whole number >= 1 (`log --limit`, `GET /api/audit?limit=`); raises ValueError."""
    if not _COUNT.fullmatch(text.strip()) or int(text) < 1:
        raise ValueError(f"not a positive number: {text!r}")
    return int(text)


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`since_time` for argparse."""
    try:
        return since_time(text, now)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive_arg(text: str) -> int:
    """`positive_count` for argparse (`log --limit`, `report --days`)."""
    try:
        return positive_count(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _value(value: Json) -> str:
    if value is None:
        return "(unset)"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _detail(entry: Mapping[str, Json]) -> str:
    """The change as `property before→after`, else the reason; an error is always shown."""
    change = entry.get("change")
    parts = []
    if isinstance(change, Mapping):
        for prop, delta in change.items():
            if isinstance(delta, Mapping) and ("before" in delta or "after" in delta):
                parts.append(f"{prop} {_value(delta.get('before'))}→{_value(delta.get('after'))}")
            else:
                parts.append(f"{prop}={_value(delta)}")
    parts += _other_steps(entry.get("steps"), set(change) if isinstance(change, Mapping) else set())
    if not parts and entry.get("reason"):
        parts.append(str(entry["reason"]))
    if entry.get("error"):
        parts.append(f"error: {entry['error']}")
    text = printable("; ".join(parts))  # escaped before it is cut: the width is what the terminal shows
    return text if len(text) <= DETAIL_WIDTH else text[: DETAIL_WIDTH - 1] + "…"


def _other_steps(steps: Json, shown: set[str]) -> list[str]:
    """The steps whose change `change` does not already show (the PATCH), with their status: key
    regenerations by key name, others (a file deleted, a deployment re-pointed) as before→after."""
    out = []
    for step in steps if isinstance(steps, list) else []:
        change = step.get("change") if isinstance(step, Mapping) else None
        if not isinstance(change, Mapping) or not change or set(change) <= shown:
            continue
        deltas = [(k, v) for k, v in change.items() if isinstance(v, Mapping) and "after" in v]
        if deltas:
            label = ", ".join(f"{k} {_value(v.get('before'))}→{_value(v.get('after'))}" for k, v in deltas)
        else:
            label = str(change.get("keyName") or _value(dict(change)))
        out.append(f"{step.get('step')} {label} ({step.get('status')})")
    return out


def _row(entry: Mapping[str, Json]) -> tuple[str, ...]:
    time = str(entry.get("time") or "")
    with contextlib.suppress(ValueError):  # a malformed time is shown as stored
        time = parse_time(time).strftime("%Y-%m-%d %H:%M:%S")
    resource = str(entry.get("resourceId") or "").rstrip("/").rsplit("/", 1)[-1]
    cells = (
        entry.get("seq"),
        time,
        entry.get("kind"),
        resource,
        entry.get("controlId"),
        entry.get("mode"),
        entry.get("decision"),
        entry.get("outcome"),
        _detail(entry),
    )
    # Every cell escaped: a newline or escape sequence in a stored id must not forge a row (docs/audit.md).
    return tuple(printable(c) if c not in (None, "") else "-" for c in cells)


def format_table(entries: Iterable[Mapping[str, Json]]) -> str:
    """A readable table, one line per entry: resource by name (last id segment), changes as before→after."""
    rows = [_row(entry) for entry in entries]
    if not rows:
        return "(no audit entries)"
    widths = [max(len(r[i]) for r in [_COLUMNS, *rows]) for i in range(len(_COLUMNS) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]).rstrip()
        for row in [_COLUMNS, *rows]
    )


def add_source(parser: argparse.ArgumentParser) -> None:
    """The options that name an audit log (`log`, `verify`, `report`): see open_log."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--dir", help=f"local audit folder (default: $WARDEN_AUDIT_DIR or {DEFAULT_DIR})")
    group.add_argument(
        "--blob-account-url",
        metavar="URL",
        help="blob account URL, signed in with DefaultAzureCredential (default: $WARDEN_AUDIT_ACCOUNT_URL)",
    )
    group.add_argument(
        "--blob-connection-string",
        metavar="CS",
        help="blob connection string, e.g. Azurite (default: $WARDEN_AUDIT_CONNECTION_STRING)",
    )
    parser.add_argument("--container", help=f"blob container (default: $WARDEN_AUDIT_CONTAINER or {DEFAULT_CONTAINER})")


def open_log(args: argparse.Namespace) -> AuditLog:
    """The log the options name: flags first, then $WARDEN_AUDIT_ACCOUNT_URL, $WARDEN_AUDIT_CONNECTION_STRING,
    and last the folder ($WARDEN_AUDIT_DIR or .warden/audit)."""
    env = os.environ
    if args.dir or args.blob_account_url or args.blob_connection_string:
        url, conn = args.blob_account_url, args.blob_connection_string
    else:
        url = env.get("WARDEN_AUDIT_ACCOUNT_URL")
        conn = None if url else env.get("WARDEN_AUDIT_CONNECTION_STRING")
    if url or conn:
        from warden.azure.audit_blob import from_settings

        container = args.container or env.get("WARDEN_AUDIT_CONTAINER") or DEFAULT_CONTAINER
        return from_settings(url, conn, container)
    folder = args.dir or env.get("WARDEN_AUDIT_DIR") or DEFAULT_DIR
    if not os.path.isdir(folder):
        raise ConfigurationError(f"no audit log folder at {folder} (use --dir or set WARDEN_AUDIT_DIR)")
    return LocalAuditLog(folder)


def run_log(args: argparse.Namespace) -> int:
    """`warden log`: print the matching entries (the newest `--limit`) as a table or JSON lines."""
    audit = open_log(args)
    selected: Iterable[dict[str, Json]] = filter_entries(
        audit.entries(since=args.since),
        since=args.since,
        resource=args.resource,
        control=args.control,
        outcome=args.outcome,
    )
    if args.limit:
        selected = deque(selected, maxlen=args.limit)
    if args.json:
        for entry in selected:
            line = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
            if _SURROGATE.search(line):  # a forged lone surrogate cannot be printed as UTF-8: \\uXXXX form
                line = json.dumps(entry, separators=(",", ":"))
            print(line)
    else:
        print(format_table(selected))
    return 0


def run_verify(args: argparse.Namespace) -> int:
    """`warden verify`: 0 if the chain is intact, 1 with each problem printed, 2 if the log is unreadable (an
    error `warden.cli.main` prints)."""
    audit = open_log(args)
    head = audit.head_mark() if isinstance(audit, LocalAuditLog) else None
    report = verify(audit.entries(), head=head)
    if report.ok:
        print(f"OK: {report.entries} entries, chain intact")
        if report.head is not None:  # note it elsewhere: a later truncation of the tail then shows
            print(f"head: seq {report.head[0]} hash {report.head[1]}")
        return 0
    for problem in report.problems:
        print(printable(problem))
    print(f"FAILED: {len(report.problems)} problem(s) in {report.entries} entries")
    return 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `log` and `verify` subcommands; each sets `func(args) -> exit code`."""
    log_cmd = subparsers.add_parser("log", help="show the audit log", description=run_log.__doc__)
    add_source(log_cmd)
    log_cmd.add_argument("--since", type=parse_since, help="ISO-8601 time or age (30s, 30m, 2h, 7d, 1w)")
    log_cmd.add_argument("--resource", help="case-insensitive substring or glob of the resource id")
    log_cmd.add_argument("--control", help="control id or glob, e.g. 'network.*'")
    log_cmd.add_argument("--outcome", help="exact outcome, e.g. remediated, failed, would-remediate")
    log_cmd.add_argument("--json", action="store_true", help="JSON lines as stored (full resource ids)")
    log_cmd.add_argument("--limit", type=positive_arg, help="only the newest N matching entries")
    log_cmd.set_defaults(func=run_log)
    verify_cmd = subparsers.add_parser(
        "verify", help="check the audit log's hash chain", description=run_verify.__doc__
    )
    add_source(verify_cmd)
    verify_cmd.set_defaults(func=run_verify)
