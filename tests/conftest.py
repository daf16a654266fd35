"""Shared test fixtures: where the upstream reference material lives, and the session's Azurite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.azurite import azurite  # noqa: F401 - one Azurite process for every test folder

REPO = Path(__file__).resolve().parents[1]
# The upstream files the tests read, vendored with their provenance (reference/SOURCES.md), so a clone
# anywhere runs the suite. tests/fixtures/test_vendored.py keeps them byte-equal to ../shared when present.
VENDORED = REPO / "tests" / "fixtures" / "reference"


def shared_dir() -> Path:
    """The shared folder the vendored copy came from: $WARDEN_SHARED, else ../shared beside the checkout."""
    return Path(os.environ.get("WARDEN_SHARED") or REPO.parent / "shared")


def reference_dir() -> Path:
    """The vendored tests/fixtures/reference; with WARDEN_SHARED set, $WARDEN_SHARED/reference instead."""
    ref = shared_dir() / "reference" if os.environ.get("WARDEN_SHARED") else VENDORED
    if not ref.is_dir():
        raise RuntimeError(f"upstream reference material not found at {ref}")
    return ref


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--if-match",
        choices=("honoured", "ignored"),
        default="honoured",
        help="how the emulator treats If-Match when a scenario does not say (issue 6: run warden's suite both ways)",
    )


@pytest.fixture(autouse=True)
def emulator_if_match(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The If-Match mode this run gives every emulator whose scenario does not name one."""
    mode = str(request.config.getoption("--if-match"))
    monkeypatch.setattr("emulator.arm.options.DEFAULT_IF_MATCH", mode)
    return mode


@pytest.fixture(scope="session")
def reference() -> Path:
    return reference_dir()
