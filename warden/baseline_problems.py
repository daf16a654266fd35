"""The baseline reader's problems, collected so that one run reports them all: in file order, each with its line
and key path, capped at MAX_PROBLEMS, and raised together as one BaselineError (docs/baseline.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from warden.errors import BaselineError

#: The most problems reported; past it one line says how many more there are, so a garbage file (or the wrong
#: file) cannot flood a terminal.
MAX_PROBLEMS = 50


class Skip(Exception):  # noqa: N818 (not an error: control flow inside the reader)
    """The value being read is unusable and its problem is recorded: the reader goes on with the next value."""


@dataclass(frozen=True)
class Problem:
    line: int
    message: str
    cause: BaseException | None


class Problems:
    """Every problem found in one file, formatted as `{source}:{line}: {path}: {problem}`."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._found: list[Problem] = []

    @property
    def count(self) -> int:
        return len(self._found)

    def add(self, line: int, path: str, problem: str, cause: BaseException | None = None) -> None:
        where = f"{path}: " if path else ""
        self._found.append(Problem(line, f"{self.source}:{line}: {where}{problem}", cause))

    def raise_all(self) -> NoReturn:
        """Raise the BaselineError of every problem, by line (a stable sort keeps the reading order on one line);
        it is chained to the first problem's cause (the parser's own error) when there is one."""
        found = sorted(self._found, key=lambda p: p.line)
        assert found, "raise_all without a problem"
        shown = [p.message for p in found[:MAX_PROBLEMS]]
        if len(found) > MAX_PROBLEMS:
            shown.append(f"... and {len(found) - MAX_PROBLEMS} more")
        first = found[0]
        raise BaselineError("\n".join(shown), path=self.source, line=first.line, problems=tuple(shown)) from first.cause
