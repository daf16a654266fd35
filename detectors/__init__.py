"""The controls, one declaration per module, listed here explicitly (no registration by import side effect).

Adding a control: its module (a `CONTROL`), one line below, its test, and the docs (docs/architecture.md).
"""

from __future__ import annotations

from typing import Any

from detectors import (
    ai_jailbreak_filter,
    data_training_files,
    encryption_cmk,
    encryption_cmk_freshness,
    encryption_vault_protection,
    identity_key_vault_keys,
    identity_local_auth,
    identity_role_assignments,
    logging_diagnostics,
    network_outbound,
    network_public_access,
)
from warden.control import Control

#: Every implemented control, in DESIGN §2 order.
CONTROLS: tuple[Control[Any], ...] = (
    network_public_access.CONTROL,
    network_outbound.CONTROL,
    identity_local_auth.CONTROL,
    identity_key_vault_keys.CONTROL,
    identity_role_assignments.CONTROL,
    encryption_cmk.CONTROL,
    encryption_cmk_freshness.CONTROL,
    encryption_vault_protection.CONTROL,
    data_training_files.CONTROL,
    ai_jailbreak_filter.CONTROL,
    logging_diagnostics.CONTROL,
)
