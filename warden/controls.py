"""The explicit catalogue of implemented detectors and remediators (no registration by import side effect)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from detectors import network_public_access
from remediators.account_patch import AccountPatchRemediator
from warden.model import AccountSnapshot, Finding, Json
from warden.ports import Remediator


@dataclass(frozen=True)
class Detector:
    """A control's pure check: (account snapshot, the control's baseline parameters) -> findings."""

    control_id: str
    detect: Callable[[AccountSnapshot, Mapping[str, Json]], list[Finding]]


DETECTORS: tuple[Detector, ...] = (Detector(network_public_access.CONTROL_ID, network_public_access.detect),)

REMEDIATORS: tuple[Remediator, ...] = (AccountPatchRemediator(),)
