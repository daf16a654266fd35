"""`warden sweep` fails fast, once, in plain words: no credential is exit 3 in one line, a permission refused is
exit 4 naming the permission and the scope, and no summary contradicts an error (warden/exit_codes.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from emulator import Emulator
from emulator.builders import SUBSCRIPTION
from tests.test_cli import DEMO, emulator_env, warden
from warden.exit_codes import SIGN_IN_HINT


def signed_out(tmp_path: Path) -> dict[str, str]:
    """No credential anywhere DefaultAzureCredential looks: no AZURE_* variables, no `az`/`azd`/`pwsh` on PATH,
    and a HOME without an Azure CLI or VS Code sign-in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "IDENTITY_", "MSI_", "WARDEN_"))}
    return {
        **env,
        "PATH": "",
        "HOME": str(tmp_path),
        "WARDEN_BASELINE": str(DEMO / "baseline.yaml"),
        "WARDEN_AUDIT_DIR": str(tmp_path / "audit"),
        "WARDEN_STATE_DIR": str(tmp_path / "state"),
    }


def test_sweep_without_a_credential_says_how_to_sign_in_once(tmp_path: Path) -> None:
    done = warden("sweep", "--mode", "dry-run", env=signed_out(tmp_path))
    assert done.returncode == 3
    assert done.stdout == ""  # no summary: nothing was swept
    assert done.stderr.splitlines() == [f"error: {SIGN_IN_HINT}"]
    assert not (tmp_path / "audit").exists()  # nothing ran, so nothing was recorded


def test_verbose_shows_every_credential_tried(tmp_path: Path) -> None:
    done = warden("-v", "sweep", "--mode", "dry-run", env=signed_out(tmp_path))
    assert done.returncode == 3
    assert f"error: {SIGN_IN_HINT}" in done.stderr
    assert "EnvironmentCredential" in done.stderr and "AzureCliCredential" in done.stderr


def test_a_bad_baseline_is_exit_2_before_any_sign_in(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nmode: enforcee\nscope:\n  subscriptions: [not-a-guid]\n")
    done = warden("sweep", env={**signed_out(tmp_path), "WARDEN_BASELINE": str(bad)})
    assert done.returncode == 2
    assert "no Azure credential" not in done.stderr and "bad.yaml:2:" in done.stderr


def test_sweep_refused_a_permission_names_it_and_its_scope(tmp_path: Path) -> None:
    scope = f"/subscriptions/{SUBSCRIPTION}"
    denial = (
        "The client 'admin@contoso.com' with object id '0c1d2e3f-0000-4000-8000-000000000001' does not have "
        f"authorization to perform action 'Microsoft.CognitiveServices/accounts/read' over scope '{scope}' or the "
        "scope is invalid. If access was recently granted, please refresh your credentials."
    )
    with Emulator(json.loads((DEMO / "tenant.json").read_text())) as emu:
        emu.add_fault(
            "GET", r"/providers/Microsoft\.CognitiveServices/accounts$", "forbidden", count=50, message=denial
        )
        env = emulator_env(emu, tmp_path)
        done = warden("sweep", "--mode", "dry-run", env=env)
    assert done.returncode == 4, done.stderr
    assert done.stdout == ""  # the partial count goes with the errors, marked incomplete
    lines = done.stderr.splitlines()
    assert f"error: permission denied: needs Microsoft.CognitiveServices/accounts/read on {scope}" in lines
    assert any(line.startswith("sweep incomplete (") for line in lines)
    assert any(line.startswith("hint: grant warden's role") for line in lines)
    assert not any(line.startswith("swept ") for line in lines)


def test_doctor_without_a_credential_still_checks_the_baseline_and_exits_3(tmp_path: Path) -> None:
    done = warden("doctor", env=signed_out(tmp_path))
    assert done.returncode == 3, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("fail  identity  signed in: no Azure credential: nothing in Azure was checked")
    assert lines[1].strip() == f"fix: {SIGN_IN_HINT}"
    assert lines[2].startswith("ok    baseline") and lines[-1] == "1 ok, 0 warn, 1 fail"
