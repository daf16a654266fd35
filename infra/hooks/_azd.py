"""Shared helpers of the azd hooks (standard library only): azd environment values, one-line messages, running az
and azd without a shell, and the id checks both hooks make."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from typing import NoReturn

GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
#: The last error line of az or azd quoted in a message is cut to this length.
QUOTE_LIMIT = 300

_INSTALL_HINT = {
    "az": "install the Azure CLI and sign in with `az login`",
    "azd": "install the Azure Developer CLI (azd), which runs this hook",
}


class Hook:
    """One hook's voice: short progress lines on stdout, and one line on stderr before exiting 1 on a problem."""

    def __init__(self, name: str) -> None:
        self.name = name

    def say(self, message: str) -> None:
        sys.stdout.write(f"{self.name}: {message}\n")
        sys.stdout.flush()

    def fail(self, message: str, code: int = 1) -> NoReturn:
        sys.stdout.flush()
        sys.stderr.write(f"{self.name}: error: {message}\n")
        sys.stderr.flush()
        raise SystemExit(code)

    def run(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        """Runs a command (no shell) and returns its captured output; a missing program is a failure with a fix.
        The program is looked up first because on Windows `az` is az.cmd, which a bare name does not find."""
        program = shutil.which(argv[0])
        if program is None:
            self.fail(f"`{argv[0]}` is not on PATH: {_INSTALL_HINT.get(argv[0], 'install it')}, then run this again")
        return subprocess.run([program, *argv[1:]], capture_output=True, text=True, check=False)


def env(name: str) -> str:
    """An azd environment value as the hook sees it (azd passes them as environment variables); "" when unset."""
    return os.environ.get(name, "").strip()


def last_line(text: str) -> str:
    """The last non-empty line of a command's error output, cut short, for quoting in a one-line message."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    quote = lines[-1] if lines else "no error output"
    return quote if len(quote) <= QUOTE_LIMIT else quote[: QUOTE_LIMIT - 3] + "..."


def unique(items: Iterable[str]) -> list[str]:
    """The items in their first order, each once."""
    return list(dict.fromkeys(items))


def split_list(text: str) -> list[str]:
    """A comma-separated azd value as its non-empty, stripped items."""
    return [item.strip() for item in text.split(",") if item.strip()]


def is_guid(text: str) -> bool:
    return GUID.fullmatch(text) is not None
