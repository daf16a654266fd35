"""The Key Vault controls' parameters in a baseline: read, normalised, and refused with line and reason."""

from __future__ import annotations

import pytest

from tests.test_baseline import HEAD, parse
from warden.errors import BaselineError
from warden.params_vault import KeySecret

SUB = "11111111-2222-3333-4444-555555555555"
ACCOUNT = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/legacy-*"

GOOD = (
    HEAD
    + f"""\
controls:
  encryption.cmk:
    required:
      - /subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/prod/*
    approved_vaults: [https://KV-CMK.vault.azure.net/, kv-other]
    vault: kv-cmk
    key: aoai-cmk
  encryption.cmk-freshness:
    max_age_days: 90
    expiry_warning_days: 14
    versionless: true
  encryption.vault-protection:
  identity.key-vault-keys:
    max_age_days: 30
    secrets:
      - account: {ACCOUNT}
        vault: kv-keys
        secret: legacy-keys
"""
)


def test_the_key_vault_controls_read_their_parameters() -> None:
    baseline = parse(GOOD)
    cmk = baseline.params("encryption.cmk")
    assert cmk.required == ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/prod/*",)
    assert (cmk.approved_vaults, cmk.vault, cmk.key) == (("kv-cmk", "kv-other"), "kv-cmk", "aoai-cmk")
    fresh = baseline.params("encryption.cmk-freshness")
    assert (fresh.max_age_days, fresh.expiry_warning_days, fresh.versionless) == (90, 14, True)
    keys = baseline.params("identity.key-vault-keys")
    assert keys.secrets == (KeySecret(ACCOUNT, "kv-keys", "legacy-keys"),) and keys.max_age_days == 30


@pytest.mark.parametrize(
    ("controls", "line", "fragment"),
    [
        ("  encryption.cmk:\n    required: yes-please\n", 7, "true, false or a list of resource-id patterns"),
        ("  encryption.cmk:\n    required: [rg-prod]\n", 7, "resource-id pattern"),
        ("  encryption.cmk:\n    vault: https://not_a_vault.example/\n", 7, "not a Key Vault name or URI"),
        ("  encryption.cmk:\n    approved_vaults: [kv-ok, 'x']\n", 7, "not a Key Vault name"),
        ("  encryption.cmk:\n    key: 'bad key'\n", 7, "not a Key Vault key or secret name"),
        ("  encryption.cmk-freshness:\n    max_age_days: 0\n", 7, "out of range"),
        ("  encryption.cmk-freshness:\n    max_age_days: 90.5\n", 7, "whole number of days"),
        (
            "  identity.key-vault-keys:\n    secrets:\n      - account: /subscriptions/s/*\n        vault: kv\n",
            8,
            "exactly account, vault and secret",
        ),
    ],
)
def test_bad_key_vault_parameters_are_refused_with_their_line(controls: str, line: int, fragment: str) -> None:
    with pytest.raises(BaselineError) as caught:
        parse(HEAD + "controls:\n" + controls)
    assert str(caught.value).startswith(f"baseline.yaml:{line}: controls.")
    assert fragment in str(caught.value)
