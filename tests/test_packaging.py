"""The admin CLI as a package: the wheel built from the checkout ships warden, detectors and remediators with the
`warden` console script and exactly requirements.txt + requirements-admin.txt, and works installed, away from it."""

from __future__ import annotations

import configparser
import email.parser
import os
import shutil
import site
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("warden", "detectors", "remediators")
#: Development only: never in the wheel (the emulator reads its swagger slices from tests/fixtures/reference).
NOT_SHIPPED = ("tests", "emulator", "bench", "scenarios", "infra", "function_app.py")


@dataclass(frozen=True)
class Built:
    source: Path  # the copy of the checkout the wheel was built from
    wheel: Path
    env: Path  # a virtualenv holding only the wheel (its dependencies come from the test's own site-packages)
    outside: Path  # a folder outside the checkout to run it from


def _checkout_files() -> list[str]:
    """The checkout as git sees it (tracked, and new files not ignored): no .venv, build/ or *.egg-info."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    return [p for p in listed.split("\0") if p and (REPO / p).is_file()]


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The wheel, built offline from a copy of the checkout (setuptools builds in place: the checkout stays clean),
    then installed without dependencies into a fresh virtualenv."""
    root = tmp_path_factory.mktemp("packaging")
    source = root / "source"
    for relative in _checkout_files():
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / relative, source / relative)
    dist = root / "dist"
    pip = (sys.executable, "-m", "pip")
    done = _run(*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", dist, source, cwd=root)
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = dist.glob("warden-*.whl")
    env = root / "env"
    done = _run(sys.executable, "-m", "venv", "--without-pip", env, cwd=root)
    assert done.returncode == 0, done.stderr
    python = env / "bin" / "python"
    done = _run(*pip, "--python", python, "install", "--no-deps", "--no-index", "-q", wheel, cwd=root)
    assert done.returncode == 0, done.stderr[-3000:]
    # The dependencies, already installed for the tests, reached through a .pth: site-packages only, never the checkout.
    purelib = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=root).stdout.strip()
    (Path(purelib) / "warden-test-deps.pth").write_text("".join(f"{p}\n" for p in site.getsitepackages()))
    outside = root / "elsewhere"
    outside.mkdir()
    return Built(source=source, wheel=wheel, env=env, outside=outside)


def _installed_env(built: Built) -> dict[str, str]:
    """The environment minus anything that could reach the checkout or change warden's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WARDEN_", "AZURE_", "PYTHON"))}
    return env | {"PATH": f"{built.env / 'bin'}{os.pathsep}{env.get('PATH', '')}"}


def _warden(built: Built, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return _run(built.env / "bin" / "warden", *args, cwd=cwd or built.outside, env=_installed_env(built))


def _requirements(*names: str) -> set[str]:
    lines = (line.split("#")[0].strip() for name in names for line in (REPO / name).read_text().splitlines())
    return {str(Requirement(line)) for line in lines if line}


def test_the_wheel_ships_the_packages_and_no_development_files(built: Built) -> None:
    names = zipfile.ZipFile(built.wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {*PACKAGES, next(t for t in tops if t.endswith(".dist-info"))}
    assert not tops & set(NOT_SHIPPED)
    # Every file of the packages, whatever its kind (a data file read at run time too), and nothing else.
    wanted = {
        p.relative_to(built.source).as_posix()
        for package in PACKAGES
        for p in (built.source / package).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert {n for n in names if n.split("/")[0] in PACKAGES} == wanted
    assert {"warden/azure/__init__.py", "warden/__main__.py", "warden/cli.py"} <= wanted


def test_the_wheel_declares_the_console_script_and_both_requirement_files(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as wheel:
        info = next(n.split("/")[0] for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        entry_points = configparser.ConfigParser()
        entry_points.read_string(wheel.read(f"{info}/entry_points.txt").decode())
        metadata = email.parser.Parser().parsestr(wheel.read(f"{info}/METADATA").decode())
    assert dict(entry_points["console_scripts"]) == {"warden": "warden.cli:main"}
    from warden import __version__

    assert metadata["Version"] == __version__
    declared = {str(Requirement(r)) for r in metadata.get_all("Requires-Dist") or []}
    assert declared == _requirements("requirements.txt", "requirements-admin.txt")
    assert "azure-mgmt-eventgrid<11,>=10.4" in declared  # the admin CLI's own: not in what Azure installs
    assert not _requirements("requirements-admin.txt") & _requirements("requirements.txt")


def test_installed_warden_runs_outside_the_checkout(built: Built) -> None:
    probe = _run(
        built.env / "bin" / "python",
        "-c",
        "import importlib.util as u, warden\n"
        "print(warden.__file__)\n"
        "print(u.find_spec('emulator'), u.find_spec('tests'))",
        cwd=built.outside,
        env=_installed_env(built),
    )
    assert probe.returncode == 0, probe.stderr
    where, missing = probe.stdout.splitlines()
    assert Path(where).is_relative_to(built.env) and missing == "None None"
    helped = _warden(built, "--help")
    assert helped.returncode == 0, helped.stderr
    assert "check-baseline" in helped.stdout and "sweep" in helped.stdout
    module = _run(built.env / "bin" / "python", "-m", "warden", "--help", cwd=built.outside, env=_installed_env(built))
    assert module.returncode == 0 and module.stdout == helped.stdout


def test_installed_warden_checks_a_baseline(built: Built) -> None:
    shutil.copy(REPO / "baseline.yaml", built.outside / "mine.yaml")
    checked = _warden(built, "check-baseline", "mine.yaml")
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("mine.yaml: valid")
    (built.outside / "bad.yaml").write_text("version: 1\nmode: sometimes\n")
    refused = _warden(built, "check-baseline", "bad.yaml")
    assert refused.returncode == 2 and "sometimes" in refused.stderr and "Traceback" not in refused.stderr


def test_infra_files_uses_the_current_folder_and_says_when_there_is_none(built: Built, tmp_path: Path) -> None:
    missing = _warden(built, "infra-files", cwd=tmp_path)  # installed: no checkout to fall back on
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        "error: no infra folder: none in the current folder and warden does not run from a checkout; pass --dir"
    ]
    (tmp_path / "infra").mkdir()
    for name in ("permissions.json", "event-filters.json"):
        shutil.copy(REPO / "infra" / name, tmp_path / "infra" / name)
    assert _warden(built, "infra-files", cwd=tmp_path).returncode == 0
    (tmp_path / "infra" / "event-filters.json").write_text("{}\n")
    stale = _warden(built, "infra-files", cwd=tmp_path)
    assert stale.returncode == 1 and "event-filters.json differs" in stale.stderr
    # From a checkout, anywhere: its own infra/.
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARDEN_")} | {"PYTHONPATH": str(REPO)}
    (tmp_path / "away").mkdir()
    from_checkout = _run(sys.executable, "-m", "warden", "infra-files", cwd=tmp_path / "away", env=env)
    assert from_checkout.returncode == 0, from_checkout.stderr


@pytest.mark.parametrize("command", ["replay", "emulator"])
def test_installed_warden_says_replay_needs_a_checkout(built: Built, command: str) -> None:
    (built.outside / "s.json").write_text('{"resources": []}')
    (built.outside / "e.json").write_text("[]")
    args = ["--state", "s.json", "--events", "e.json", "--out", "out"] if command == "replay" else ["--help"]
    done = _warden(built, command, *args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs a warden checkout" in lines[0], done.stderr
