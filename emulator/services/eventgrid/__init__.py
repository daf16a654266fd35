"""An Event Grid custom topic's publishing endpoint (`TopicPlane`), on a port of its own:
`POST https://HOST:PORT4/api/events` with a CloudEvents 1.0 batch (docs/emulator.md "Event Grid topic")."""

from __future__ import annotations

from .topic import LISTENER, TopicPlane

__all__ = ["LISTENER", "TopicPlane"]
