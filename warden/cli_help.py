"""The examples every subcommand's `--help` ends with, and the exit codes the top-level help ends with: real
command lines (tests/test_cli_help.py parses each with the real parser), kept in one table."""

from __future__ import annotations

import argparse

from warden.exit_codes import EXIT_CODES_HELP

_BLOB = "https://stwarden.blob.core.windows.net"
_DEMO = "--state scenarios/demo/tenant.json --events scenarios/demo/events.json --baseline scenarios/demo/baseline.yaml"

#: Subcommand -> (command line, what it does); two or three each.
EXAMPLES: dict[str, tuple[tuple[str, str], ...]] = {
    "replay": (
        (f"warden replay {_DEMO} --out demo-out", "the demo: its events against the local emulator"),
        (f"warden replay {_DEMO} --mode dry-run --sweep --out /tmp/dry", "what enforce would change, then a sweep"),
    ),
    "log": (
        ("warden log --since 24h --outcome remediated", "what warden changed in the last day"),
        ("warden log --control 'network.*' --resource aoai-prod --json", "one account's network records, as stored"),
        (f"warden log --blob-account-url {_BLOB} --since 7d --limit 50", "the deployed log, newest 50 of a week"),
    ),
    "verify": (
        ("warden verify --dir demo-out/audit", "check a local log's hash chain"),
        (f"warden verify --blob-account-url {_BLOB}", "check the deployed log (Entra sign-in)"),
    ),
    "report": (
        ("warden report --since 24h", "where each account stands after the last day's records"),
        ("warden report --days 30 --html posture.html", "a month as one self-contained page"),
        (f"warden report --blob-account-url {_BLOB} --json", "the deployed log's posture as JSON"),
    ),
    "permissions": (
        ("warden permissions", "the custom role's actions, and which control needs each"),
        ("warden permissions --json", "the same as JSON (infra/permissions.json plus neededBy)"),
    ),
    "infra-files": (
        ("warden infra-files", "check infra/permissions.json and event-filters.json against the controls"),
        ("warden infra-files --write", "rewrite the stale ones"),
    ),
    "controls": (
        ("warden controls", "each control: parameters, events, sweep, fix steps, permissions"),
        ("warden controls --json", "each control's permissions as JSON"),
    ),
    "check-baseline": (
        ("warden check-baseline baseline.yaml", "every problem of the file at once, with file:line"),
        ("warden check-baseline scenarios/demo/baseline.yaml", "the demo's, with its exemptions"),
    ),
    "sweep": (
        ("warden sweep --mode dry-run", "what the hourly sweep would change now, changing nothing"),
        ("WARDEN_BASELINE=baseline.yaml warden sweep", "a sweep with the baseline's own modes"),
    ),
    "doctor": (
        ("warden doctor", "check the current sign-in and the WARDEN_* environment"),
        (
            'warden doctor --settings appsettings.json --function-app "$(azd env get-value AZURE_FUNCTION_APP_ID)"',
            "check a deployment: `az functionapp config appsettings list -o json > appsettings.json` first",
        ),
        ("warden doctor --json", "the checks as JSON, for a pipeline"),
    ),
    "emulator": (
        ("warden emulator", "the local Azure emulator on a free port, until Ctrl-C"),
        ("warden emulator --state scenarios/demo/tenant.json", "the emulator with the demo tenant"),
    ),
}


def epilog(command: str) -> str:
    return "examples:\n" + "\n".join(f"  # {what}\n  {line}" for line, what in EXAMPLES[command])


def finish(parser: argparse.ArgumentParser, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """End the top-level help with the exit codes, and every subcommand's with its examples."""
    parser.epilog = EXIT_CODES_HELP
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    for name, child in subparsers.choices.items():
        child.epilog = epilog(name)
        child.formatter_class = argparse.RawDescriptionHelpFormatter
