"""`warden permissions` (what warden's identity may do, and which control needs each right) and
`warden infra-files` (write or check the files in infra/ generated from the controls' declarations)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from warden.exit_codes import ExitCode

#: The checkout's infra/ when warden runs from one (an installed warden has none beside its package).
CHECKOUT_INFRA = Path(__file__).resolve().parents[1] / "infra"


def default_infra(cwd: Path | None = None) -> Path | None:
    """`infra` in the current folder, else the checkout's, else None."""
    here = (cwd or Path.cwd()) / "infra"
    for folder in (here, CHECKOUT_INFRA):
        if folder.is_dir():
            return folder
    return None


def _permissions(args: argparse.Namespace) -> int:
    from warden import permissions
    from warden.infra_files import permissions_document

    if args.json:
        document = permissions_document()
        document["neededBy"] = {p: list(ids) for p, ids in permissions.needed_by().items()}
        print(json.dumps(document, indent=2))
        return 0
    needed_by = permissions.needed_by()
    print(f"Custom role '{permissions.ROLE_NAME}', assigned on every subscription in scope (infra/main.bicep):")
    for title, names in (("actions", permissions.ACTIONS), ("dataActions", permissions.DATA_ACTIONS)):
        print(f"\n{title} ({len(names)}):")
        width = max(len(n) for n in names)
        for name in names:
            print(f"  {name:<{width}}  {', '.join(needed_by[name])}")
    print("\nBuilt-in roles on warden's own resources only:")
    for scope, roles in (
        ("storage account", permissions.STORAGE_ROLES),
        ("Application Insights", permissions.APP_INSIGHTS_ROLES),
        ("notification topic (when deployed)", permissions.EVENT_GRID_ROLES),
    ):
        for role in roles:
            print(f"  {role.name} on the {scope}: {role.why}")
    return 0


def _infra_files(args: argparse.Namespace) -> int:
    from warden.infra_files import GENERATED_BY, stale, write

    folder = Path(args.dir) if args.dir else default_infra()
    if folder is None:
        print(
            "error: no infra folder: none in the current folder and warden does not run from a checkout; pass --dir",
            file=sys.stderr,
        )
        return ExitCode.INPUT
    if args.write:
        for path in write(folder):
            print(f"wrote {path}")
        return 0
    outdated = stale(folder)
    for path in outdated:
        print(f"{path} differs from the controls' declarations: run `{GENERATED_BY}`", file=sys.stderr)
    return 1 if outdated else 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    perms = sub.add_parser(
        "permissions",
        help="the rights warden's identity needs (the custom role's actions and data actions), with the controls "
        "that need each",
    )
    perms.add_argument("--json", action="store_true", help="as JSON: infra/permissions.json plus neededBy")
    perms.set_defaults(func=_permissions)
    files = sub.add_parser(
        "infra-files", help="check (default) or --write infra/permissions.json and event-filters.json"
    )
    files.add_argument("--write", action="store_true", help="rewrite the files that are stale")
    files.add_argument(
        "--dir", help="the infra folder (default: ./infra, else the checkout's when warden runs from one)"
    )
    files.set_defaults(func=_infra_files)
