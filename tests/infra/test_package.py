"""The deployment package: what `.funcignore` lets azd ship indexes the app with the settings the Bicep deploys,
as hosted in Azure, and carries no development file (tests, emulator, infra, bench)."""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.infra.app_settings import deployed_environment
from tests.infra.bicep import REPO
from tests.test_function_app import EXPECTED_BINDINGS

#: What the Functions host and warden need at run time, and nothing else of the checkout's top level.
EXPECTED_TOP_LEVEL = {
    "function_app.py",
    "host.json",
    "requirements.txt",
    "baseline.yaml",
    "warden",
    "detectors",
    "remediators",
    "pyproject.toml",
    "README.md",
}


def _ignored(relative: Path, patterns: list[str]) -> bool:
    """.funcignore's rules as the checkout uses them: a name pattern excludes every path with a matching part."""
    return any(fnmatch.fnmatch(part, pattern) for part in relative.parts for pattern in patterns)


def package_files() -> list[Path]:
    patterns = [
        line.strip().strip("/")
        for line in (REPO / ".funcignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [Path(p) for p in tracked if not _ignored(Path(p), patterns) and (REPO / p).is_file()]


def test_the_package_ships_only_the_runtime() -> None:
    top = {p.parts[0] for p in package_files()}
    assert top == EXPECTED_TOP_LEVEL


def test_the_shipped_files_index_the_app_with_the_deployed_settings(tmp_path: Path) -> None:
    package = tmp_path / "package"
    for relative in package_files():
        (package / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / relative, package / relative)
    deployed = deployed_environment()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WARDEN_", "AZURE_", "PYTHONPATH"))}
    env |= deployed | {"WEBSITE_INSTANCE_ID": "0123456789abcdef"}
    code = (
        "import function_app, sys\n"
        "from azure.functions.decorators.function_app import FunctionRegister\n"
        "apps = [v for v in vars(function_app).values() if isinstance(v, FunctionRegister)]\n"
        "print(sorted(f.get_function_name() for f in apps[0].get_functions()))\n"
        "assert 'emulator' not in sys.modules and 'tests' not in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=package, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == str(sorted(EXPECTED_BINDINGS))  # every function the checkout's app indexes
