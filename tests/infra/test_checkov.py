"""checkov over infra/ (`--skip-download`): no failed check, no file it could not parse, every skip justified.

checkov exits 0 when it cannot parse a file (it counts it in `summary.parsing_errors` and checks nothing in it), so
the gate reads the JSON report instead of trusting the exit code; the second test shows the gate catching that.
checkov runs from its own virtualenv (.venv-infra, `make install`), its dependencies being pinned apart from ours.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.infra.bicep import INFRA, REPO, bicep_files, parse, resources

CHECKOV = Path(os.environ.get("WARDEN_CHECKOV", REPO / ".venv-infra/bin/checkov"))


def run_checkov(directory: Path) -> dict[str, Any]:
    """checkov's JSON report for the Bicep files under `directory`."""
    if not CHECKOV.is_file():
        pytest.fail(f"{CHECKOV} is missing: run `make install` (it installs requirements-infra.txt into .venv-infra)")
    done = subprocess.run(
        [str(CHECKOV), "-d", str(directory), "--framework", "bicep", "--skip-download", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if not done.stdout.strip():
        pytest.fail(f"checkov printed no report (exit {done.returncode}): {done.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def gate_problems(report: dict[str, Any]) -> list[str]:
    """Why the report fails the gate: a file not parsed, a failed check, or a skip without a reason."""
    summary = report.get("summary", {})
    results = report.get("results", {})
    problems = []
    if summary.get("parsing_errors", 0):
        problems.append(f"{summary['parsing_errors']} file(s) checkov could not parse (so it checked nothing in them)")
    for check in results.get("failed_checks", []):
        problems.append(f"{check['file_path']}: {check['check_id']} {check['check_name']} ({check['resource']})")
    for check in results.get("skipped_checks", []):
        reason = (check.get("check_result") or {}).get("suppress_comment", "")
        if not reason or reason == "No comment provided":
            problems.append(f"{check['file_path']}: {check['check_id']} skipped without a reason")
    if not summary.get("passed", 0):
        problems.append("no check passed: checkov checked nothing")
    return problems


@pytest.fixture(scope="module")
def infra_report() -> dict[str, Any]:
    return run_checkov(INFRA)


def test_checkov_passes_on_infra(infra_report: dict[str, Any]) -> None:
    assert gate_problems(infra_report) == []


def test_checkov_parsed_every_resource_of_every_template() -> None:
    # checkov has no check for some resource types (role assignments, system topics), so a file may appear in no
    # result; instead its own parser must read each file and find the resources tree-sitter finds there.
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from checkov.bicep.parser import Parser\n"
        "out = {}\n"
        "for name in sys.argv[1:]:\n"
        "    template, _ = Parser().parse(Path(name))\n"
        "    out[name] = None if template is None else len(template.get('resources', {}))\n"
        "print(json.dumps(out))\n"
    )
    files = [str(p) for p in bicep_files()]
    done = subprocess.run(
        [str(CHECKOV.parent / "python"), "-c", script, *files], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    by_checkov = json.loads(done.stdout)
    by_tree_sitter = {str(p): len(resources(parse(p), "")) for p in bicep_files()}
    assert by_checkov == by_tree_sitter
    assert sum(by_tree_sitter.values()) >= 20


def test_the_gate_fails_a_file_checkov_cannot_parse(tmp_path: Path) -> None:
    # A lambda: valid Bicep (tree-sitter-bicep parses it), but checkov's parser cannot read it and exits 0.
    (tmp_path / "lambda.bicep").write_text(
        "param ids string = 'a,b'\nvar trimmed = map(split(ids, ','), s => trim(s))\noutput n int = length(trimmed)\n"
    )
    report = run_checkov(tmp_path)
    assert report["summary"]["parsing_errors"] == 1
    assert any("could not parse" in p for p in gate_problems(report))
