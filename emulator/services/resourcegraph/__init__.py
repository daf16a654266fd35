"""Microsoft.ResourceGraph: `POST /providers/Microsoft.ResourceGraph/resources`, a KQL subset over the stored
ARM resources with `$skipToken` paging, and a frozen view for tests (docs/emulator.md, "Resource Graph")."""

from __future__ import annotations

import weakref

from emulator.arm.plane import Arm
from emulator.arm.types import Provider

from .route import Graph
from .versions import NAMESPACE

# The Graph of each ARM plane, so the facade's freeze_graph/thaw_graph reach it without the plane knowing it.
_GRAPHS: weakref.WeakKeyDictionary[Arm, Graph] = weakref.WeakKeyDictionary()


def provider(arm: Arm) -> Provider:
    graph = Graph(arm)
    _GRAPHS[arm] = graph
    return Provider(namespace=NAMESPACE, types=(), routes=graph.routes(), locations=("global",))


def graph_of(arm: Arm) -> Graph:
    """The Resource Graph service built for `arm` (KeyError if the plane was built without it)."""
    return _GRAPHS[arm]
