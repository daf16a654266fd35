"""Key Vault's own error body, `{"error": {"code": "KeyNotFound", "message": "..."}}`, and its common errors.

The data plane answers in this shape for its own refusals and for the faults the kernel injects.
"""

from __future__ import annotations

from emulator.kernel.service import CodedError

# The wording Key Vault uses for a missing object (docs/emulator.md "Key Vault").
_GONE = (
    "was not found in this key vault. If you recently deleted this {kind} you may be able to recover it using the "
    "correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
)


class KeyVaultError(CodedError):
    """A Key Vault-shaped failure, raised anywhere in the data plane."""


def bad_parameter(message: str) -> KeyVaultError:
    return KeyVaultError(400, "BadParameter", message)


def key_not_found(name: str, version: str = "") -> KeyVaultError:
    shown = f"{name}/{version}" if version else name
    return KeyVaultError(404, "KeyNotFound", f"A key with (name/id) {shown} " + _GONE.format(kind="key"))


def secret_not_found(name: str, version: str = "") -> KeyVaultError:
    shown = f"{name}/{version}" if version else name
    return KeyVaultError(404, "SecretNotFound", f"A secret with (name/id) {shown} " + _GONE.format(kind="secret"))
