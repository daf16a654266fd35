"""Shared test fixtures: where the upstream reference material lives, and the session's Azurite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.azurite import azurite  # noqa: F401 - one Azurite process for every test folder

REPO = Path(__file__).resolve().parents[1]


def reference_dir() -> Path:
    """../shared/reference beside the checkout (CI lays shared/ there); WARDEN_SHARED overrides."""
    shared = Path(os.environ.get("WARDEN_SHARED", REPO.parent / "shared"))
    ref = shared / "reference"
    if not ref.is_dir():
        raise RuntimeError(f"upstream reference material not found at {ref}; set WARDEN_SHARED")
    return ref


@pytest.fixture(scope="session")
def reference() -> Path:
    return reference_dir()
