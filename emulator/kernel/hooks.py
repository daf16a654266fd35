"""Test hooks on requests: a callback run before a matching request is handled (`Emulator.on_request`), to
change the world between two calls of the client under test (a job starts between a listing and a delete).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

Callback = Callable[[], object]


@dataclass
class Hook:
    """One armed hook: `path` is a regex searched case-insensitively in the decoded URL path; `method` `*`
    matches any method. It runs `count` times and then expires."""

    method: str
    path: str
    callback: Callback
    count: int = 1
    pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError("hook count must be >= 1")
        if not callable(self.callback):
            raise ValueError("hook callback must be callable")
        self.method = self.method.upper()
        self.pattern = re.compile(self.path, re.IGNORECASE)

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method.upper()) and self.pattern.search(path) is not None


class HookBook:
    """The armed hooks, in the order added; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hooks: list[Hook] = []

    def add(self, hook: Hook) -> None:
        with self._lock:
            self._hooks.append(hook)

    def clear(self) -> None:
        with self._lock:
            self._hooks.clear()

    def take(self, method: str, path: str) -> list[Callback]:
        """Consume one firing of every matching hook; their callbacks, to run outside the lock."""
        fired: list[Callback] = []
        with self._lock:
            for hook in list(self._hooks):
                if hook.matches(method, path):
                    fired.append(hook.callback)
                    hook.count -= 1
                    if hook.count == 0:
                        self._hooks.remove(hook)
        return fired
