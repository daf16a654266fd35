"""The admin CLI's exit codes, one meaning each, and the one-line hint for a permission ARM refused.

Scripts branch on these (docs/cli.md): they are part of the interface and every command uses the same ones.
"""

from __future__ import annotations

import re
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    #: The command ran and found problems: a broken audit chain, failed doctor checks, sweep errors.
    PROBLEMS = 1
    #: Bad input or settings: arguments, the baseline, WARDEN_* settings, an unreadable audit log.
    INPUT = 2
    #: No Azure credential: not signed in, and no managed identity.
    NO_CREDENTIAL = 3
    #: Signed in, but a permission is missing on a scope.
    PERMISSION_DENIED = 4


EXIT_CODES_HELP = """exit codes:
  0  success
  1  problems found (a broken audit chain, failed doctor checks, sweep errors)
  2  invalid input or settings (arguments, the baseline file, WARDEN_* settings, an unreadable audit log)
  3  no Azure credential: sign in with `az login`, or run with a managed identity
  4  permission denied: the identity lacks a permission on a scope (the message names both)"""

SIGN_IN_HINT = (
    "no Azure credential: sign in with `az login`, or run where a managed identity is available "
    "(AZURE_CLIENT_ID for a user-assigned one); -v shows every credential tried"
)

# ARM's AuthorizationFailed message names the action and the scope; Key Vault's and Storage's say it otherwise.
_ARM_DENIAL = re.compile(r"perform action '(?P<action>[^']+)' over scope '(?P<scope>[^']+)'", re.IGNORECASE)


def denied_line(message: str) -> str:
    """`needs ACTION on SCOPE` from a refusal's message when it names them, else the message as it is."""
    found = _ARM_DENIAL.search(message)
    if found is None:
        return f"permission denied: {message}"
    return f"permission denied: needs {found['action']} on {found['scope']}"


PERMISSION_HINT = (
    "grant warden's role on that scope (`warden permissions` lists what it needs); `warden doctor` checks every "
    "permission on every subscription in scope"
)
