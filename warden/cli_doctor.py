"""`warden doctor`: read-only checks of a deployment (its app settings) or of the current sign-in, each ok, warn or
fail with its fix: the identity, each control's permissions on each subscription in scope, the Event Grid
subscriptions, the audit and state storage, the baseline (docs/cli.md "warden doctor")."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from warden.doctor import Check, Level
from warden.errors import BaselineError, ConfigurationError, NoCredentialError
from warden.exit_codes import ExitCode
from warden.text import printable


def read_settings_file(path: str) -> dict[str, str]:
    """App settings from `az functionapp config appsettings list -o json` ([{name, value}]), a local.settings.json
    ({"Values": {...}}) or a plain JSON object of names to values."""
    try:
        document: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{path}: cannot read the app settings: {exc}") from exc
    if isinstance(document, list):
        pairs = {str(i.get("name")): i.get("value") for i in document if isinstance(i, dict) and "name" in i}
    elif isinstance(document, dict):
        pairs = document.get("Values", document) if isinstance(document.get("Values"), dict) else document
    else:
        raise ConfigurationError(f"{path}: expected a JSON list of {{name, value}} or an object of settings")
    return {str(k): str(v) for k, v in pairs.items() if v is not None}


def run_doctor(args: argparse.Namespace) -> int:
    """`warden doctor`: 0 when no check failed, 1 when one did, 3 without a credential (warden/exit_codes.py)."""
    from detectors import CONTROLS
    from warden.azure.doctor_reads import AzureDoctorReads
    from warden.azure.wiring import build_credential
    from warden.baseline import load_baseline
    from warden.doctor import baseline_check, exit_code, identity_check, permission_checks, sign_in_failed
    from warden.doctor_events import event_checks, topics_to_check, unchecked_vaults
    from warden.doctor_storage import storage_checks
    from warden.settings import load_settings

    env: Mapping[str, str] = {**os.environ, **(read_settings_file(args.settings) if args.settings else {})}
    settings = load_settings(env)
    baseline_path = args.baseline or str(settings.baseline_path)
    try:
        baseline = load_baseline(baseline_path)
        checks = [baseline_check(baseline_path, baseline, ())]
    except BaselineError as exc:
        baseline = None
        checks = [baseline_check(baseline_path, None, exc.problems)]
    reads = AzureDoctorReads(settings, build_credential(settings))
    try:
        identity = reads.identity()
    except NoCredentialError as exc:
        checks.insert(0, sign_in_failed(exc))
        _show(checks, args.json)
        return ExitCode.NO_CREDENTIAL
    checks.insert(0, identity_check(identity, settings.self_object_ids, settings.self_app_ids))
    if baseline is not None:
        controls = [c for c in CONTROLS if c.id in baseline.controls and baseline.control_mode(c.id).value != "off"]
        scope = sorted(baseline.subscriptions)
        who = "warden's identity" if checks[0].level is Level.OK else "this identity"
        checks += permission_checks(reads, controls, scope, who)
        vaults = args.key_vault or env.get("WARDEN_KEY_VAULT_IDS", "").replace(",", " ").split()
        checks += event_checks(reads, topics_to_check(controls, scope, vaults), args.function_app or "")
        checks += unchecked_vaults(controls, vaults)
    checks += storage_checks(reads, settings)
    _show(checks, args.json)
    return exit_code(checks)


def _show(checks: list[Check], as_json: bool) -> None:
    if as_json:
        print(json.dumps([dataclasses.asdict(c) for c in checks], indent=2))  # Level is a StrEnum: its value
        return
    width = max(len(c.area) for c in checks)
    shown: set[str] = set()
    for check in checks:
        print(printable(f"{check.level.value:<4}  {check.area:<{width}}  {check.subject}: {check.detail}"))
        if check.fix and check.level is not Level.OK:
            fix = check.fix if check.fix not in shown else "as above"
            shown.add(check.fix)
            print(printable(f"{'':<4}  {'':<{width}}  fix: {fix}"))
    counts = {level: sum(c.level is level for c in checks) for level in Level}
    print(", ".join(f"{n} {level.value}" for level, n in counts.items()))


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    doctor = sub.add_parser(
        "doctor",
        help="check a deployment read-only: identity, permissions, Event Grid, storage, baseline",
        description=__doc__,
    )
    doctor.add_argument(
        "--settings",
        metavar="FILE",
        help="the app's settings as JSON (`az functionapp config appsettings list -o json`, or local.settings.json); "
        "default: the WARDEN_* environment",
    )
    doctor.add_argument("--baseline", metavar="FILE", help="the baseline file (default: $WARDEN_BASELINE)")
    doctor.add_argument(
        "--function-app",
        metavar="ID",
        help="the function app's resource id, which the event subscriptions must deliver to",
    )
    doctor.add_argument(
        "--key-vault",
        metavar="ID",
        action="append",
        help="a CMK vault's resource id whose key events must reach the app (repeatable; default: "
        "$WARDEN_KEY_VAULT_IDS, the azd environment's list)",
    )
    doctor.add_argument("--json", action="store_true", help="the checks as JSON")
    doctor.set_defaults(func=run_doctor)
