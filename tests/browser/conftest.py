"""The browser tests' rig: an audit log written by the real pipeline (`warden replay` on the demo), the function app
indexed as the worker does and served on 127.0.0.1 with a function key, and Debian's chromium driven by Playwright.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.host import Served, functions_host
from tests.test_cli import WARDEN_OID, run_replay
from tests.test_function_app import REPO, index_like_the_worker
from warden.azure import functions_host as host

CHROMIUM = Path("/usr/bin/chromium")
# No sandbox (containers run as root), and none of chromium's own traffic: updates, sync, field trials, QUIC.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO / "test-output" / "browser"
_saved: list[Path] = []


@dataclass(frozen=True)
class App:
    """The served app: its base URL, the function key, and the audit folder it reads."""

    served: Served
    key: str
    audit_dir: Path


@dataclass
class Browse:
    """A page in a fresh browser context, with every request it made (URL) recorded."""

    page: Any
    requests: list[str] = field(default_factory=list)

    def screenshot(self, name: str, *, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / name
        self.page.screenshot(path=str(path), full_page=full_page)
        _saved.append(path)
        print(f"screenshot: {path}")
        return path

    def only_loopback(self) -> None:
        """No request left 127.0.0.1 (the pages are self-contained: no CDN, font or analytics)."""
        assert self.requests, "the page made no request at all"
        away = [u for u in self.requests if urlsplit(u).hostname != "127.0.0.1" and not u.startswith("data:")]
        assert not away, f"requests left 127.0.0.1: {away}"


@pytest.fixture(scope="session")
def seeded_audit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's tenant and events run through the real pipeline (as `make demo` does), three hours ago."""
    out = tmp_path_factory.mktemp("browser") / "demo-out"
    start = (datetime.now(UTC) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    done = run_replay(out, "--self-object-id", WARDEN_OID, "--sweep", "--now", start)
    assert done.returncode == 0, done.stderr
    return out / "audit"


@pytest.fixture(scope="module")
def app(seeded_audit: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """The function app configured through app settings like in Azure, its audit log the seeded folder."""
    settings = {
        "WARDEN_BASELINE": str(REPO / "scenarios" / "demo" / "baseline.yaml"),
        "WARDEN_AUDIT_DIR": str(seeded_audit),
        "WARDEN_STATE_DIR": str(tmp_path_factory.mktemp("state")),
        "WARDEN_CREDENTIAL": "static",
        "WARDEN_ARM_ENDPOINT": "https://127.0.0.1:9",  # never called: the pages only read the audit log
    }
    key = secrets.token_urlsafe(24)
    with pytest.MonkeyPatch.context() as env:
        for name, value in settings.items():
            env.setenv(name, value)
        host.reset_runtime()
        functions = index_like_the_worker()
        with functions_host(functions, key) as served:
            yield App(served, key, seeded_audit)
        host.reset_runtime()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless. Missing, the test fails: `make install` installs it (never a silent skip)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install chromium` (`make install` does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is missing: `pip install -r requirements-dev.txt` (no `playwright install` needed)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def browse(browser: Any) -> Iterator[Browse]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    seen = Browse(page)
    page.on("request", lambda request: seen.requests.append(request.url))
    yield seen
    context.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say where the screenshots went, in the test run's own output."""
    if _saved:
        terminalreporter.section("browser screenshots")
        for path in dict.fromkeys(_saved):
            terminalreporter.write_line(str(path))
