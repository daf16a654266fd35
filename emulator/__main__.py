"""`python -m emulator --state SCENARIO.json [--port N]`: serve a scenario until Ctrl-C or SIGTERM."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
