"""The Azure OpenAI data plane (files and fine-tuning jobs: `OpenAIPlane`), served on a port of its own where
the first path segment names the account by its custom subdomain: `https://HOST:PORT3/{subdomain}/openai/...`
(docs/emulator.md "Azure OpenAI data plane")."""

from __future__ import annotations

from .plane import OpenAIPlane
from .versions import LISTENER

__all__ = ["LISTENER", "OpenAIPlane"]
