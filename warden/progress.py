"""Progress of long terminal work (`warden sweep`, `warden replay`): counts, rate and ETA on one redrawn line, only
when the stream is a terminal; quiet otherwise (a pipe, a log file, the Function App)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TextIO, TypeVar

T = TypeVar("T")

#: The fewest seconds between two redraws (at most ~5 a second): a fast loop does not flood the terminal.
REDRAW_EVERY = 0.2


class Progress:
    """`advance(n)` after each unit of work, `finish()` once at the end. The line shows done/total when the total
    is known (with an ETA), else the count alone; and the rate per second since the start."""

    def __init__(
        self,
        what: str,
        stream: TextIO,
        *,
        total: int | None = None,
        unit: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what, self.total, self.unit = what, total, unit
        self.done = 0
        self._stream, self._clock = stream, clock
        self._on = _is_terminal(stream)
        self._started = clock()
        self._drawn_at: float | None = None
        self._width = 0
        # A log line printed while the progress line is on screen would run on from its tail: clear it first (the
        # next advance redraws it). Filters on the root logger's handlers, removed by finish().
        self._handlers = list(logging.getLogger().handlers) if self._on else []
        for handler in self._handlers:
            handler.addFilter(self._clear_for_log)

    def advance(self, n: int = 1) -> None:
        self.done += n
        if not self._on:
            return
        now = self._clock()
        if self._drawn_at is None or now - self._drawn_at >= REDRAW_EVERY:
            self._draw(self.line(now), end="")
            self._drawn_at = now

    def finish(self) -> None:
        """The last line, kept on screen (with a newline); nothing when not a terminal."""
        for handler in self._handlers:
            handler.removeFilter(self._clear_for_log)
        self._handlers = []
        if self._on:
            self._draw(self.line(self._clock(), final=True), end="\n")
            self._on = False  # once

    def _clear_for_log(self, record: logging.LogRecord) -> bool:
        if self._on and self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()
            self._width, self._drawn_at = 0, None  # redrawn at the next advance
        return True  # the record is always emitted

    def line(self, now: float, *, final: bool = False) -> str:
        elapsed = max(now - self._started, 0.0)
        rate = self.done / elapsed if elapsed > 0 else 0.0
        unit = f" {self.unit}" if self.unit else ""
        count = f"{self.done}/{self.total}{unit}" if self.total is not None else f"{self.done}{unit}"
        parts = [f"{self.what}: {count}", f"{rate:.1f}/s"]
        if final:
            parts.append(f"done in {_duration(elapsed)}")
        elif self.total is not None and rate > 0:
            parts.append(f"ETA {_duration(max(self.total - self.done, 0) / rate)}")
        return ", ".join(parts)

    def _draw(self, text: str, *, end: str) -> None:
        # Pad over the previous line's tail, then return to the start: one line, redrawn in place.
        padding = " " * max(self._width - len(text), 0)
        self._stream.write(f"\r{text}{padding}{end}")
        self._stream.flush()
        self._width = len(text)


def counted(items: Sequence[T], progress: Progress | None) -> Iterator[T]:
    """The items, telling `progress` their number first and each one done (when the loop asks for the next)."""
    if progress is not None:
        progress.total = len(items)
    for item in items:
        yield item
        if progress is not None:
            progress.advance()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
