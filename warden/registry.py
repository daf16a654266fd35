"""Everything derived from the controls' declarations (detectors/): ids, step kinds, permissions.

Nothing here is typed twice: routing (warden/routing.py) and the baseline schema (warden/baseline.py) read
the same declarations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from detectors import CONTROLS
from warden.control import Control
from warden.model import Json
from warden.steps import Step


def _unique(names: list[str], what: str) -> None:
    doubles = sorted({n for n in names if names.count(n) > 1})
    if doubles:
        raise ValueError(f"{what} declared twice: {doubles}")


_unique([c.id for c in CONTROLS], "control ids")
_unique(list({id(s): s.kind for c in CONTROLS for s in c.steps}.values()), "step kinds")

#: The ids of the implemented controls (DESIGN §2 order); the baseline, audit records and tests use them.
CONTROL_IDS: tuple[str, ...] = tuple(c.id for c in CONTROLS)
_BY_ID: Mapping[str, Control[Any]] = {c.id: c for c in CONTROLS}
#: Step kind name -> its class, for steps stored in the state store while pending.
STEP_KINDS: Mapping[str, type[Step]] = {s.kind: s for c in CONTROLS for s in c.steps}
#: Every ARM / data-plane action warden's identity needs: the union of what the controls declare.
PERMISSIONS: frozenset[str] = frozenset(p for c in CONTROLS for p in c.permissions)


def control(control_id: str) -> Control[Any]:
    """The declaration of a control; KeyError for an id that no control declares."""
    try:
        return _BY_ID[control_id]
    except KeyError:
        raise KeyError(f"unknown control id {control_id!r}") from None


def step_from_json(data: Mapping[str, Json]) -> Step:
    """A stored step back as its typed value; ValueError for a kind no control uses (any more)."""
    kind = STEP_KINDS.get(str(data.get("kind")))
    if kind is None:
        raise ValueError(f"unknown step kind {data.get('kind')!r}")
    step: Step = kind.from_json(data)  # type: ignore[attr-defined]
    return step
