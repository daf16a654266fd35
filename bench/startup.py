"""Section 4 (cold start): import cost of function_app and of the heavy SDK modules, each in fresh processes.

Every figure is the median of several fresh interpreters (after one unmeasured run that warms the file
cache and the .pyc files), timed around the import statement inside the child, so interpreter start-up is
not included. "After function_app" imports the module in a child that has already imported function_app:
what deferring that import moves out of the cold start. The last probe builds the Runtime as the first
event does (`build_runtime`, static credential, one management client), the cost lazy construction defers.
`measure_process` times the whole process instead: `python -c "import function_app"` against `python -c pass`;
`compare_cold_start` does so for another checkout too (a commit before a change) and with telemetry set
(`python -m bench.startup --before DIR`, docs/telemetry.md "Cold start").
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

#: Modules worth knowing whether `import function_app` pulls in.
HEAVY = (
    "azure.functions",
    "azure.core",
    "azure.mgmt.cognitiveservices",
    "azure.identity",
    "azure.storage.blob",
    "opentelemetry",
    "azure.monitor.opentelemetry",
)
#: A connection string of the right shape whose ingestion endpoint is loopback (nothing is sent at import).
DUMMY_CONNECTION = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:9/"
_TELEMETRY = ("APPLICATIONINSIGHTS_CONNECTION_STRING", "APPLICATIONINSIGHTS_AUTHENTICATION_STRING")

_CHILD = """
import json, shutil, sys, tempfile, time
from pathlib import Path
folder = Path(tempfile.mkdtemp(prefix="warden-bench-"))
before = {before!r}
for name in before:
    __import__(name)
t0 = time.perf_counter()
{body}
dt = time.perf_counter() - t0
shutil.rmtree(folder)
print(json.dumps({{"s": dt, "loaded": [m for m in {heavy!r} if m in sys.modules], "modules": len(sys.modules)}}))
"""

_BUILD = """
from warden.azure.wiring import build_runtime
from warden.settings import Settings
rt = build_runtime(Settings(baseline_path=Path("scenarios/demo/baseline.yaml"), arm_endpoint="https://127.0.0.1:1",
                            credential="static", audit_dir=folder / "audit", state_dir=folder / "state"))
rt.ports.accounts._clients("6a1f3c2e-8d4b-4f7a-9c0e-2b5d7e9f1a3c")
"""


def _child(body: str, before: tuple[str, ...]) -> dict[str, Any]:
    code = _CHILD.format(before=before, body=body, heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"import probe failed: {done.stderr.strip().splitlines()[-1:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _median(label: str, body: str, runs: int, before: tuple[str, ...] = ()) -> dict[str, Any]:
    _child(body, before)  # warm-up: file cache and bytecode
    samples = [_child(body, before) for _ in range(runs)]
    return {
        "what": label,
        "median_ms": round(statistics.median(s["s"] for s in samples) * 1000, 1),
        "min_ms": round(min(s["s"] for s in samples) * 1000, 1),
        "runs": runs,
        "heavy_loaded": samples[-1]["loaded"],
        "modules_loaded": samples[-1]["modules"],
    }


def _wall(code: str, cwd: Path = REPO, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, check=True, timeout=120)
    return time.perf_counter() - started


def process_wall(code: str, runs: int) -> float:
    """Median wall seconds of a whole `python -c CODE` process (cwd = the repository), after one warm-up."""
    _wall(code)
    return statistics.median(_wall(code) for _ in range(runs))


def measure_process(runs: int) -> dict[str, Any]:
    """Cold start as a whole process: `python -c "import function_app"` against `python -c pass`, interpreter
    start-up, site and exit included; the two alternate so that a drift in machine load hits both alike."""
    _wall("pass")
    _wall("import function_app")
    passes, imports = [], []
    for _ in range(runs):
        passes.append(_wall("pass"))
        imports.append(_wall("import function_app"))
    pass_ms, app_ms = statistics.median(passes) * 1000, statistics.median(imports) * 1000
    return {
        "runs": runs,
        "python_pass_ms": round(pass_ms, 1),
        "import_function_app_ms": round(app_ms, 1),
        "difference_ms": round(app_ms - pass_ms, 1),
    }


def measure_startup(runs: int) -> dict[str, Any]:
    """Median import times in fresh interpreters; which heavy modules `import function_app` loads."""
    app = ("function_app",)
    worker = ("function_app", "warden.azure.cognitive")
    rows = [
        _median("import function_app", "import function_app", runs),
        _median("import azure.functions (alone)", "import azure.functions", runs),
        _median("import azure.mgmt.cognitiveservices (alone)", "import azure.mgmt.cognitiveservices", runs),
        _median("import azure.identity (alone)", "import azure.identity", runs),
        _median("import azure.storage.blob (alone)", "import azure.storage.blob", runs),
        _median("import azure.identity (after function_app)", "import azure.identity", runs, app),
        _median(
            "DefaultAzureCredential() (after function_app)",
            "from azure.identity import DefaultAzureCredential; DefaultAzureCredential()",
            runs,
            app,
        ),
        _median("import azure.storage.blob (after function_app)", "import azure.storage.blob", runs, app),
        _median(
            "import azure.identity + azure.storage.blob (after function_app)",
            "import azure.identity, azure.storage.blob",
            runs,
            app,
        ),
        _median("build_runtime + 1 client (after function_app)", _BUILD, runs, app),
        # The Azure OpenAI data-plane client, first used by the data sweep in a worker that already runs the
        # ARM controls; and the `openai` package it does without (docs/ai.md "The client").
        _median(
            "import warden.azure.openai_data (after the ARM adapter)", "import warden.azure.openai_data", runs, worker
        ),
        _median("import openai (after the ARM adapter)", "import openai", runs, worker),
        # What the first invocation of a worker with APPLICATIONINSIGHTS_CONNECTION_STRING set imports (no export:
        # configure_azure_monitor is not called here); with the setting unset none of it is loaded.
        _median(
            "import the telemetry adapter + azure-monitor-opentelemetry (after function_app)",
            "import warden.azure.telemetry, azure.monitor.opentelemetry, opentelemetry.sdk.metrics",
            runs,
            app,
        ),
    ]
    loaded = rows[0]["heavy_loaded"]
    return {
        "python": sys.version.split()[0],
        "process": measure_process(runs),
        "rows": rows,
        "function_app_loads": loaded,
        "function_app_defers": [m for m in HEAVY if m not in loaded],
        "baseline_file": str(Path("scenarios/demo/baseline.yaml")),
    }


def compare_cold_start(before: Path, runs: int) -> dict[str, Any]:
    """`import function_app` as a whole process in `before` (another checkout, e.g. `git archive` of the parent
    commit) and in this one with telemetry unset, and (informative) set to a dummy connection string; each against
    `python -c pass`. One round runs every command once, so a drift in machine load hits them alike."""
    unset = {k: v for k, v in os.environ.items() if k not in _TELEMETRY and not k.startswith("WARDEN_")}
    cases = {
        "python -c pass": ("pass", REPO, unset),
        "before, unset": ("import function_app", before, unset),
        "after, unset": ("import function_app", REPO, unset),
        "after, set (dummy)": ("import function_app", REPO, unset | {_TELEMETRY[0]: DUMMY_CONNECTION}),
    }
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for round_ in range(runs + 1):  # the first round warms the file cache and the .pyc files
        for name, (code, cwd, env) in cases.items():
            seconds = _wall(code, cwd, env)
            if round_:
                samples[name].append(seconds)
    ms = {name: statistics.median(values) * 1000 for name, values in samples.items()}
    base = ms["python -c pass"]
    rows = [
        {"what": name, "median_ms": round(value, 1), "minus_pass_ms": round(value - base, 1)}
        for name, value in ms.items()
    ]
    after, before_ms = ms["after, unset"] - base, ms["before, unset"] - base
    return {
        "runs": runs,
        "rows": rows,
        "after_over_before": round(after / before_ms, 3) if before_ms > 0 else None,
        "set_over_unset": round((ms["after, set (dummy)"] - base) / after, 3) if after > 0 else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=compare_cold_start.__doc__)
    parser.add_argument("--before", type=Path, required=True, help="the other checkout (its own function_app.py)")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    result = compare_cold_start(args.before, args.runs)
    print(f"cold start, median of {result['runs']} fresh processes each (ms; minus `python -c pass`):")
    for row in result["rows"]:
        print(f"  {row['what']:<22} {row['median_ms']:>8.1f}  {row['minus_pass_ms']:>8.1f}")
    print(f"  after / before (unset, minus pass): {result['after_over_before']}")
    print(f"  set / unset (after, minus pass):    {result['set_over_unset']}")


if __name__ == "__main__":
    main()
