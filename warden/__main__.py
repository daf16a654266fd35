"""`python -m warden`: the command-line interface."""

from warden.cli import main

raise SystemExit(main())
