"""The project's structural rules (DESIGN §3, §8), enforced so they cannot drift silently."""

from __future__ import annotations

import ast
import dataclasses
import importlib
from pathlib import Path

import pytest

from detectors import CONTROLS
from warden.registry import STEP_KINDS

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("warden", "detectors", "remediators", "emulator")
SOURCES = [*sorted(p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")), REPO / "function_app.py"]


def code_lines(path: Path) -> int:
    """Lines that are not blank, comments, or docstrings."""
    tree = ast.parse(path.read_text())
    doc_lines: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(getattr(body[0], "value", None), ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            doc_lines.update(range(body[0].lineno, (body[0].end_lineno or body[0].lineno) + 1))
    return sum(
        1
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if line.strip() and not line.strip().startswith("#") and n not in doc_lines
    )


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_module_opens_with_a_docstring_and_stays_small(path: Path) -> None:
    tree = ast.parse(path.read_text())
    if path.name != "__init__.py" or path.read_text().strip():
        assert ast.get_docstring(tree), f"{path} has no module docstring"
    assert len(path.read_text().splitlines()) <= 400, f"{path} is over 400 lines"


@pytest.mark.parametrize("control", CONTROLS, ids=lambda c: c.id)
def test_control_module_id_and_test_file_match(control: object) -> None:
    control_id = control.id  # type: ignore[attr-defined]
    module_name = control_id.replace(".", "_").replace("-", "_")
    module = importlib.import_module(f"detectors.{module_name}")
    assert module.CONTROL is control
    assert module.CONTROL.detect is module.detect
    assert (REPO / "tests" / "detectors" / f"test_{module_name}.py").is_file()
    assert code_lines(REPO / "detectors" / f"{module_name}.py") <= 60


def test_every_detector_module_is_registered() -> None:
    modules = {p.stem for p in (REPO / "detectors").glob("*.py") if p.stem != "__init__"}
    registered = {c.id.replace(".", "_").replace("-", "_") for c in CONTROLS}
    assert modules == registered


@pytest.mark.parametrize("kind", sorted(STEP_KINDS))
def test_step_kinds_declare_permissions_and_stay_small(kind: str) -> None:
    step = STEP_KINDS[kind]
    assert step.permissions and all(p.count("/") >= 2 for p in step.permissions)
    assert dataclasses.is_dataclass(step) and step.__dataclass_params__.frozen  # type: ignore[attr-defined]
    module = importlib.import_module(step.__module__)
    assert module.__name__.startswith("remediators.")
    assert code_lines(Path(module.__file__ or "")) <= 100


def test_one_step_kind_per_remediators_module() -> None:
    modules = {p.stem for p in (REPO / "remediators").glob("*.py") if p.stem != "__init__"}
    assert sorted(modules) == sorted(step.__module__.split(".")[1] for step in STEP_KINDS.values())


def test_only_the_adapters_import_azure_sdks() -> None:
    offenders = []
    for path in SOURCES:
        rel = path.relative_to(REPO)
        if rel.parts[:2] == ("warden", "azure") or rel.parts[0] == "emulator" or rel.name == "function_app.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            offenders += [f"{rel}: {n}" for n in names if n.split(".")[0] in ("azure", "openai", "opentelemetry")]
    assert offenders == []


def test_detectors_and_planner_touch_no_clock_network_or_environment() -> None:
    pure = [*(REPO / "detectors").glob("*.py"), REPO / "warden" / "planner.py"]
    for path in pure:
        text = path.read_text()
        for forbidden in ("datetime.now", "time.time", "os.environ", "socket", "requests", "urllib", "getenv"):
            assert forbidden not in text, f"{path.name} uses {forbidden}"


def test_function_app_only_wires() -> None:
    # Nine triggers of four lines each plus the app and its imports (DESIGN §8.8: the quickstarts' ~35 lines
    # hold one trigger): the budget grows with the triggers, never with behaviour.
    assert code_lines(REPO / "function_app.py") <= 45


def test_funcignore_keeps_development_files_out_of_the_package() -> None:
    ignored = set((REPO / ".funcignore").read_text().split())
    assert {"tests", "infra", "emulator", "bench", ".venv", "node_modules"} <= ignored
