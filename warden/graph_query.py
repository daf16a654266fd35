"""The sweep's one Resource Graph query, built from the controls' declared drift conditions (docs/scale.md).

Pure text: the conditions are constants of the control declarations (detectors/), never user input, and the
subscriptions travel in the request body, not in the query.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from warden.control import Control

ACCOUNT_TYPE = "microsoft.cognitiveservices/accounts"


def candidate_query(controls: Sequence[Control[Any]], kinds: Sequence[str]) -> str:
    """The accounts of `kinds` on which any of `controls` may have drifted, each with only the properties
    those controls read, in id order (Resource Graph pages in a stable order only by id)."""
    conditions = [c.graph for c in controls if c.graph is not None]
    if len(conditions) != len(controls) or not controls:
        raise ValueError("every control of a Resource Graph sweep needs a drift condition")
    properties = sorted({p for g in conditions for p in g.properties})
    picked = ", ".join(f"'{p}', properties.{p}" for p in properties)
    return "\n".join(
        [
            "Resources",
            f"| where type =~ '{ACCOUNT_TYPE}'",
            f"| where kind in~ ({', '.join(repr(k) for k in sorted(kinds))})",
            "| where " + " or ".join(f"({g.where})" for g in conditions),
            f"| project id, name, type, kind, location, properties = bag_pack({picked})",
            "| order by id asc",
        ]
    )
