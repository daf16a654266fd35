"""The stand-ins for `az` and `azd` that the hook tests put first on PATH, and the baseline texts they expect."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCOPE = REPO / "infra" / "hooks" / "scope.py"
EVENTS = REPO / "infra" / "hooks" / "subscribe_events.py"
PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
SUB_A = "11111111-2222-4333-8444-555555555555"
SUB_B = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
SUB_C = "99999999-8888-4777-8666-555555555555"
WORKSPACE = f"/subscriptions/{SUB_A}/resourceGroups/rg-dev/providers/Microsoft.OperationalInsights/workspaces/log-dev"
PLACEHOLDER_LINE = f"    - {PLACEHOLDER}\n"
WORKSPACE_LINE = '    workspace_id: ""\n'
ENV_SET = ["azd", "env", "set"]
SCOPE_LINE = (REPO / "baseline.yaml").read_text().splitlines().index("  subscriptions:") + 1
MG_LIST = ["az", "account", "management-group", "show", "--name", "mg-prod", "--expand", "--recurse"]

# One stand-in for both programs: it logs [name, *argv] as a JSON line, keeps `azd env set` values in a JSON file
# (as azd keeps them in .azure/<env>/.env), and answers with FAKE_<NAME>_STDOUT/_STDERR/_RC.
FAKE = """#!{python}
import json, os, sys
prog = os.path.basename(sys.argv[0])
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps([prog, *sys.argv[1:]]) + "\\n")
answer = lambda what, default="": os.environ.get("FAKE_" + prog.upper() + "_" + what, default)
if prog == "azd" and sys.argv[1:3] == ["env", "set"] and answer("RC", "0") == "0":
    path = os.environ["FAKE_AZD_ENV"]
    values = json.load(open(path)) if os.path.exists(path) else {{}}
    json.dump({{**values, sys.argv[3]: sys.argv[4]}}, open(path, "w"))
sys.stdout.write(answer("STDOUT")), sys.stderr.write(answer("STDERR")), sys.exit(int(answer("RC", "0")))
"""


@dataclass
class Result:
    code: int
    out: str
    err: str
    calls: list[list[str]]


@dataclass
class Rig:
    tmp: Path
    env: dict[str, str]

    @property
    def baseline(self) -> Path:
        return self.tmp / "baseline.yaml"

    def run(self, script: Path, *args: str) -> Result:
        log = Path(self.env["FAKE_LOG"])
        log.write_text("")
        argv = [sys.executable, str(script), *args]
        proc = subprocess.run(argv, env=self.env, cwd=self.tmp, capture_output=True, text=True, check=False)
        calls = [json.loads(line) for line in log.read_text().splitlines()]
        return Result(proc.returncode, proc.stdout, proc.stderr, calls)

    def scope(self) -> Result:
        return self.run(SCOPE, "--baseline", str(self.baseline))

    def ok(self) -> Result:
        result = self.scope()
        assert result.code == 0, result.err
        return result

    def stored(self) -> dict[str, str]:
        """What the hooks set with `azd env set`, which azd hands to the next hook as environment variables."""
        path = Path(self.env["FAKE_AZD_ENV"])
        return json.loads(path.read_text()) if path.exists() else {}


def original() -> str:
    text = (REPO / "baseline.yaml").read_text()
    assert text.count(PLACEHOLDER_LINE) == 1 and text.count(WORKSPACE_LINE) == 1, "the baseline's layout changed"
    return text


def filled(*subscriptions: str, text: str | None = None) -> str:
    """The repository's baseline as the hook should leave it: only the two values differ."""
    items = "".join(f"    - {sub}\n" for sub in subscriptions)
    body = (text or original()).replace(PLACEHOLDER_LINE, items)
    return body.replace(WORKSPACE_LINE, f'    workspace_id: "{WORKSPACE}"\n')


def assert_failed(result: Result, message: str, hook: str = "warden scope") -> None:
    """Exit 1 (unless told) with one error line that names the problem and the fix."""
    lines = result.err.strip().splitlines()
    assert result.code == 1 and len(lines) == 1, result
    assert lines[0].startswith(f"{hook}: error: ") and message in lines[0], lines[0]
