"""`warden permissions` and `warden infra-files`: the rights with the controls that need them, and the check that
fails when infra/'s generated files are stale."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from detectors import CONTROLS
from tests.infra.bicep import INFRA, REPO
from warden.registry import PERMISSIONS


def warden(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "warden", *args], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )


def test_permissions_names_the_controls_behind_each_right() -> None:
    done = warden("permissions", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert set(doc["neededBy"]) == PERMISSIONS
    for permission, ids in doc["neededBy"].items():
        assert set(ids) == {c.id for c in CONTROLS if permission in c.permissions}
    assert doc["neededBy"]["Microsoft.Authorization/roleAssignments/delete"] == ["identity.role-assignments"]
    assert {k: v for k, v in doc.items() if k != "neededBy"} == json.loads((INFRA / "permissions.json").read_text())


def test_permissions_table_lists_actions_then_data_actions() -> None:
    done = warden("permissions")
    assert done.returncode == 0, done.stderr
    actions, data_actions = done.stdout.split("\ndataActions")
    assert "Microsoft.CognitiveServices/accounts/write" in actions
    assert "Microsoft.CognitiveServices/accounts/OpenAI/files/delete" in data_actions
    assert "Microsoft.CognitiveServices/accounts/OpenAI/files/delete" not in actions
    assert "Storage Blob Data Owner on the storage account" in data_actions


def test_infra_files_check_fails_on_a_stale_file_and_write_repairs_it(tmp_path: Path) -> None:
    copy = tmp_path / "infra"
    copy.mkdir()
    for name in ("permissions.json", "event-filters.json"):
        shutil.copy(INFRA / name, copy / name)
    assert warden("infra-files", "--dir", str(copy)).returncode == 0
    doc = json.loads((copy / "permissions.json").read_text())
    doc["customRole"]["actions"].append("Microsoft.CognitiveServices/accounts/listKeys/action")
    (copy / "permissions.json").write_text(json.dumps(doc))
    stale = warden("infra-files", "--dir", str(copy))
    assert stale.returncode == 1 and "permissions.json differs" in stale.stderr
    assert warden("infra-files", "--dir", str(copy), "--write").returncode == 0
    assert (copy / "permissions.json").read_text() == (INFRA / "permissions.json").read_text()
