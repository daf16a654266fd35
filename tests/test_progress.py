"""warden/progress.py on a fake terminal with a fake clock: counts, rate and ETA on one redrawn line, at most ~5
redraws a second, a final line; nothing at all on a stream that is not a terminal. And the sweep's hook."""

from __future__ import annotations

import io
import logging

from warden.progress import Progress, counted


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def redraws(text: str) -> list[str]:
    return [part.rstrip() for part in text.split("\r") if part]


def test_a_known_total_shows_counts_rate_and_eta() -> None:
    stream, clock = Tty(), Clock()
    progress = Progress("replay", stream, total=100, unit="events", clock=clock)
    clock.now += 2.0
    progress.advance(10)  # 10 in 2 s: 5/s, 90 left: 18 s
    assert redraws(stream.getvalue()) == ["replay: 10/100 events, 5.0/s, ETA 18s"]
    clock.now += 18.0
    progress.advance(90)
    progress.finish()
    lines = redraws(stream.getvalue())
    assert lines[-2] == "replay: 100/100 events, 5.0/s, ETA 0s"
    assert lines[-1] == "replay: 100/100 events, 5.0/s, done in 20s"
    assert stream.getvalue().endswith("\n") and stream.getvalue().count("\n") == 1


def test_an_unknown_total_shows_the_count_and_rate_without_eta() -> None:
    stream, clock = Tty(), Clock()
    progress = Progress("sweep", stream, unit="accounts", clock=clock)
    clock.now += 4.0
    progress.advance(1000)
    assert redraws(stream.getvalue()) == ["sweep: 1000 accounts, 250.0/s"]


def test_redraws_at_most_five_times_a_second() -> None:
    stream, clock = Tty(), Clock()
    progress = Progress("replay", stream, total=1000, clock=clock)
    for _ in range(1000):  # 1000 items over 2 s: 10 redraws, not 1000
        clock.now += 0.002
        progress.advance()
    assert 9 <= len(redraws(stream.getvalue())) <= 11


def test_a_shorter_line_wipes_the_longer_one_before_it() -> None:
    stream, clock = Tty(), Clock()
    progress = Progress("sweep", stream, clock=clock)
    clock.now += 1.0
    progress.advance(12345)
    clock.now += 1000.0
    progress.advance(1)
    first, second = stream.getvalue().split("\r")[1:]
    assert len(second) >= len(first)


def test_eta_in_minutes_and_hours() -> None:
    clock = Clock()
    progress = Progress("replay", Tty(), total=100_000, clock=clock)
    progress.done = 10
    assert progress.line(clock.now + 10).endswith("ETA 27h46m")
    progress.done = 1000
    assert progress.line(clock.now + 10).endswith("ETA 16m30s")


def test_quiet_when_not_a_terminal() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress("replay", stream, total=3, clock=clock)
    for _ in range(3):
        clock.now += 1.0
        progress.advance()
    progress.finish()
    assert stream.getvalue() == ""


def test_finish_writes_the_final_line_once() -> None:
    stream = Tty()
    progress = Progress("sweep", stream, clock=Clock())
    progress.finish()
    progress.finish()
    assert stream.getvalue().count("\n") == 1


def test_counted_sets_the_total_and_counts_each_item_done_even_one_skipped() -> None:
    progress = Progress("replay", io.StringIO(), clock=Clock())
    seen = []
    for item in counted(["a", "b", "c"], progress):
        seen.append((item, progress.done))
        if item == "b":
            continue  # a `continue` still counts the item
    assert progress.total == 3 and seen == [("a", 0), ("b", 1), ("c", 2)] and progress.done == 3


def test_a_log_line_clears_the_progress_line_first_and_progress_resumes_after_it() -> None:
    stream, clock = Tty(), Clock()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        progress = Progress("replay", stream, total=4, unit="events", clock=clock)
        clock.now += 1.0
        progress.advance()
        logging.getLogger("warden.test").warning("rejected event e-2")
        progress.advance()  # at once: redrawn anyway, the log line wiped it
        progress.finish()
        logging.getLogger("warden.test").warning("after the end")
    finally:
        root.removeHandler(handler)
    text = stream.getvalue()
    first = "replay: 1/4 events, 1.0/s, ETA 3s"
    # The progress line, wiped, then the log record on a line of its own, then progress again.
    assert text.startswith(f"\r{first}\r{' ' * len(first)}\rWARNING rejected event e-2\n\rreplay: 2/4 events")
    assert text.endswith("done in 1s\nWARNING after the end\n")  # finished: the filter is gone
    assert handler.filters == []
