"""Property-based tests (hypothesis): a fixed seed, a bounded example count, and a count of what ran.

`derandomize=True` makes every run draw the same examples, so `make test` is reproducible and a failure
found once is found again. WARDEN_FUZZ_EXAMPLES raises the count for a longer local hunt; the terminal
summary says how many examples each property ran.
"""

from __future__ import annotations

import functools
import os
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("WARDEN_FUZZ_EXAMPLES", "200"))

settings.register_profile(
    "warden",
    derandomize=True,  # the fixed seed: the same examples on every machine and run
    max_examples=EXAMPLES,
    deadline=None,  # the suite never asserts times (the machine is shared and slow at times)
    database=None,  # nothing written to .hypothesis/, nothing replayed from an earlier run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("warden")

RAN: Counter[str] = Counter()
F = TypeVar("F", bound=Callable[..., Any])


def counted(test: F) -> F:
    """Count each example a property runs (put it under @given), for the summary below."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> Any:
        RAN[test.__name__] += 1
        return test(*args, **kwargs)

    return run  # type: ignore[return-value]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not RAN:
        return
    terminalreporter.write_sep("-", f"property tests: {sum(RAN.values())} examples over {len(RAN)} properties")
    for name, count in sorted(RAN.items()):
        terminalreporter.write_line(f"  {count:5d}  {name}")
