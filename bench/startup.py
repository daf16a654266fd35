"""Section 4 (cold start): import cost of function_app and of the heavy SDK modules, each in fresh processes.

Every figure is the median of several fresh interpreters (after one unmeasured run that warms the file
cache and the .pyc files), timed around the import statement inside the child, so interpreter start-up is
not included. "After function_app" imports the module in a child that has already imported function_app:
what deferring that import moves out of the cold start. The last probe builds the Runtime as the first
event does (`build_runtime`, static credential, one management client), the cost lazy construction defers.
`measure_process` times the whole process instead: `python -c "import function_app"` against `python -c pass`.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

#: Modules worth knowing whether `import function_app` pulls in.
HEAVY = ("azure.functions", "azure.core", "azure.mgmt.cognitiveservices", "azure.identity", "azure.storage.blob")

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


def _wall(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, check=True, timeout=120)
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
