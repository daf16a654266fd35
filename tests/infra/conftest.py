"""The `rig` fixture of the hook tests: a folder with a copy of the baseline, and `az`/`azd` stand-ins on PATH."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.infra.hooks_rig import FAKE, REPO, SUB_A, Rig


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("az", "azd"):
        (bin_dir / name).write_text(FAKE.format(python=sys.executable))
        (bin_dir / name).chmod(0o755)
    (tmp_path / "baseline.yaml").write_bytes((REPO / "baseline.yaml").read_bytes())
    # PATH holds the stand-ins only: a real az or azd is never reached.
    env = {
        "PATH": str(bin_dir),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AZURE_ENV_NAME": "dev",
        "AZURE_SUBSCRIPTION_ID": SUB_A,
    }
    env.update(FAKE_LOG=str(tmp_path / "calls.jsonl"), FAKE_AZD_ENV=str(tmp_path / "azd-env.json"))
    return Rig(tmp_path, env)
